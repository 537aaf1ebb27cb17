import { createRouter } from "../../lib/router.ts";
import * as getHealth from "./get-health.ts";
import * as getReady from "./get-ready.ts";

export const healthRoutes = createRouter()
  .openapi(getHealth.route, getHealth.handler)
  .openapi(getReady.route, getReady.handler);
