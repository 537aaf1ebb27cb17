import { createRouter } from "../../lib/router";
import * as getMe from "./get-me";

export const meRoutes = createRouter().openapi(getMe.route, getMe.handler);
