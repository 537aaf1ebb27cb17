import type { Context, MiddlewareHandler } from "hono";
import type { AppEnv } from "../../app-env.ts";
import { isAdminToken } from "../../auth/admin-token.ts";
import { reprocessEvent } from "../../billing/process-event.ts";
import { STRIPE_EVENT_ID } from "../../billing/webhook.ts";
import { ApiError } from "../../errors/api-error.ts";
import { retryDeadLetterOrThrow } from "../../jobs/dead-letters.ts";
import { isUuid } from "../../lib/encoding.ts";
import { readConsole } from "../../ops/console.ts";
import { createRouter } from "../../routes/router.ts";
import { deploymentName } from "../../telemetry/release.ts";
import { consolePage, type Notice, signInPage } from "./page.ts";
import { CONSOLE_PATH, consoleCaller, sameOrigin, sessionCookie, signSession } from "./session.ts";

/** Flash messages after a button, by code: the page never echoes free text from the query string. */
const NOTICES: Record<string, (ref: string) => Notice> = {
  retried: (ref) => ({ kind: "ok", text: `Retried as job ${ref} with a new hold; its message is queued.` }),
  already_retried: (ref) => ({ kind: "ok", text: `Already retried earlier, as job ${ref}.` }),
  processed: (ref) => ({ kind: "ok", text: `Event ${ref} processed.` }),
  already_processed: (ref) => ({
    kind: "ok",
    text: `Event ${ref} had been processed already; nothing changed.`,
  }),
  insufficient_credits: (ref) => ({
    kind: "error",
    text: `Not retried: the account of ${ref} cannot pay for a new hold. Top it up (or grant credits), then retry.`,
  }),
  not_found: (ref) => ({ kind: "error", text: `${ref} was not found.` }),
  conflict: (ref) => ({ kind: "error", text: `${ref} cannot be handled that way (see its state).` }),
  upstream_error: (ref) => ({
    kind: "error",
    text: `Stripe did not answer as expected for ${ref}; try again.`,
  }),
  validation_failed: () => ({ kind: "error", text: "That id is not valid." }),
};

function notice(c: Context): Notice | undefined {
  const code = c.req.query("notice");
  const ref = c.req.query("ref") ?? "";
  const make = code ? NOTICES[code] : undefined;
  if (!make) return undefined;
  return make(isUuid(ref) || STRIPE_EVENT_ID.test(ref) ? ref : "the item");
}

function pageHeaders(c: Context, nonce: string) {
  c.header(
    "content-security-policy",
    `default-src 'none'; style-src 'nonce-${nonce}'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'`,
  );
  c.header("cache-control", "no-store");
  // Not no-referrer: with it, browsers send `Origin: null` on the page's own form posts, and the CSRF
  // check needs the real origin. Same-origin requests only; the URL never holds the token here.
  c.header("referrer-policy", "same-origin");
  c.header("x-frame-options", "DENY");
  c.header("x-content-type-options", "nosniff");
}

const newNonce = () => crypto.randomUUID().replaceAll("-", "");

/** The console's buttons: admin token or console cookie, and the cookie only from the console's origin. */
const guard: MiddlewareHandler<AppEnv> = async function consoleGuard(c, next) {
  const caller = await consoleCaller(c);
  if (!caller) {
    throw new ApiError("unauthorized", "Sign in to the ops console first.", {
      headers: { "www-authenticate": 'Bearer realm="tollgate-ops"' },
    });
  }
  if (caller === "cookie" && !sameOrigin(c)) {
    throw new ApiError("origin_not_allowed", "Console actions must come from the console's own page.");
  }
  return next();
};

/** After a button: back to the page with a notice (303, so a reload does not post again). */
function back(c: Context, code: string, ref: string, anchor: string) {
  return c.redirect(`${CONSOLE_PATH}?notice=${code}&ref=${encodeURIComponent(ref)}#${anchor}`, 303);
}

export const consoleRoutes = createRouter();

consoleRoutes.get(CONSOLE_PATH, async (c) => {
  const nonce = newNonce();
  pageHeaders(c, nonce);
  const { config, database } = c.get("services");
  const token = c.req.query("token");
  if (token !== undefined) {
    if (!(await isAdminToken(config, token))) return c.html(signInPage({ nonce, failed: true }).value, 401);
    c.header("set-cookie", sessionCookie(c, await signSession(config)));
    // This URL holds the token: the request the redirect leads to must not carry it as a Referer.
    c.header("referrer-policy", "no-referrer");
    return c.redirect(CONSOLE_PATH, 303);
  }
  if (!(await consoleCaller(c))) {
    c.header("www-authenticate", 'Bearer realm="tollgate-ops"');
    return c.html(signInPage({ nonce, failed: false }).value, 401);
  }
  const data = await readConsole(database);
  const deployment = deploymentName(c.env, config);
  return c.html(consolePage(data, config, { nonce, deployment, notice: notice(c) }).value, 200);
});

consoleRoutes.use(`${CONSOLE_PATH}/*`, guard);

consoleRoutes.post(`${CONSOLE_PATH}/logout`, (c) => {
  c.header("set-cookie", sessionCookie(c, "", 0));
  return c.redirect(CONSOLE_PATH, 303);
});

consoleRoutes.post(`${CONSOLE_PATH}/dead-letters/:id/retry`, async (c) => {
  const id = c.req.param("id");
  if (!isUuid(id)) return back(c, "validation_failed", "", "dead-letters");
  try {
    const result = await retryDeadLetterOrThrow(c.env.JOBS_QUEUE, c.get("services").database, id);
    return back(c, result.outcome, result.job?.id ?? id, "dead-letters");
  } catch (error) {
    if (error instanceof ApiError && error.status < 500) return back(c, error.code, id, "dead-letters");
    throw error;
  }
});

consoleRoutes.post(`${CONSOLE_PATH}/webhook-events/:id/reprocess`, async (c) => {
  const id = c.req.param("id");
  if (!STRIPE_EVENT_ID.test(id)) return back(c, "validation_failed", "", "webhooks");
  try {
    const result = await reprocessEvent(c.get("services"), id);
    return back(c, result.outcome, id, "webhooks");
  } catch (error) {
    if (error instanceof ApiError && error.code !== "internal_error")
      return back(c, error.code, id, "webhooks");
    throw error;
  }
});
