import type { OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "../../app-env.ts";
import { renderDocsPage } from "./page.ts";

export const OPENAPI_INFO = {
  openapi: "3.1.0",
  info: {
    title: "Tollgate API",
    version: "0.1.0",
    description:
      "Prepaid credits and paid jobs. Errors are RFC 9457 application/problem+json with a stable `code`; every response carries X-Request-Id.",
  },
} as const;

/** Serves the OpenAPI 3.1 document and a self-contained docs page rendered from it (no CDN assets). */
export function mountDocs(app: OpenAPIHono<AppEnv>) {
  app.doc31("/api/openapi.json", OPENAPI_INFO);
  app.get("/api/docs", (c) => {
    const document = app.getOpenAPI31Document(OPENAPI_INFO);
    return c.html(renderDocsPage(document as unknown as Parameters<typeof renderDocsPage>[0]));
  });
}
