import { createRouter } from "../../lib/router.ts";
import * as getMe from "./get-me.ts";

export const meRoutes = createRouter().openapi(getMe.route, getMe.handler);
