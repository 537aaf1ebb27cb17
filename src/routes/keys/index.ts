import { createRouter } from "../../lib/router";
import * as createKey from "./create-key";
import * as listKeys from "./list-keys";
import * as revokeKey from "./revoke-key";

export const keysRoutes = createRouter()
  .openapi(createKey.route, createKey.handler)
  .openapi(listKeys.route, listKeys.handler)
  .openapi(revokeKey.route, revokeKey.handler);
