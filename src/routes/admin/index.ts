import { createRouter } from "../../lib/router.ts";
import * as postGrant from "./post-grant.ts";

/** Operator endpoints. The app guards every /api/admin/* path with adminAuth() before these run. */
export const adminRoutes = createRouter().openapi(postGrant.route, postGrant.handler);
