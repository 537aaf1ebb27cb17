import { createRouter } from "../../lib/router.ts";
import * as getLedger from "./get-ledger.ts";

/** `/api/billing/ledger` lives here rather than with checkout: it reads the ledger, not Stripe. */
export const ledgerRoutes = createRouter().openapi(getLedger.route, getLedger.handler);
