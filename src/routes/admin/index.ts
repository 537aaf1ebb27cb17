import { createRouter } from "../router.ts";
import * as grantCredits from "./accounts/grant-credits.ts";

/** Operator endpoints. The app guards every /api/admin/* path with the admin token before these run. */
export const adminRoutes = createRouter().openapi(grantCredits.route, grantCredits.handler);
