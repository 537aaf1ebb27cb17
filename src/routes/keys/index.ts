import { createRouter } from "../router.ts";
import * as createKey from "./create.ts";
import * as listKeys from "./list.ts";
import * as revokeKey from "./revoke.ts";

export const keysRoutes = createRouter()
  .openapi(createKey.route, createKey.handler)
  .openapi(listKeys.route, listKeys.handler)
  .openapi(revokeKey.route, revokeKey.handler);
