import { createRouter } from "../../lib/router";
import * as getHealth from "./get-health";
import * as getReady from "./get-ready";

export const healthRoutes = createRouter()
  .openapi(getHealth.route, getHealth.handler)
  .openapi(getReady.route, getReady.handler);
