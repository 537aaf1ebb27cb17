import { createRouter } from "../../lib/router.ts";
import * as createKey from "./create-key.ts";
import * as listKeys from "./list-keys.ts";
import * as revokeKey from "./revoke-key.ts";

export const keysRoutes = createRouter()
  .openapi(createKey.route, createKey.handler)
  .openapi(listKeys.route, listKeys.handler)
  .openapi(revokeKey.route, revokeKey.handler);
