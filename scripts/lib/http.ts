// HTTP for the operations commands (triage, smoke, monitor, go-live): bounded time, JSON in and out,
// and errors that name the failure class, never a token or a response body that could hold one.

export type HttpAnswer = {
  status: number;
  ok: boolean;
  headers: Headers;
  // biome-ignore lint/suspicious/noExplicitAny: a parsed JSON body, read field by field by each check
  body: any;
  text: string;
  ms: number;
};

export type RequestOptions = {
  method?: string;
  headers?: Record<string, string>;
  json?: unknown;
  body?: string;
  timeoutMs?: number;
};

const DEFAULT_TIMEOUT_MS = 10_000;

/**
 * The base URL an operator passes (`--url`, or BACKEND_BASE_URL), without a trailing slash.
 */
export function normalizeBaseUrl(raw: string | undefined): string {
  const value = (raw ?? "").trim();
  const url = URL.parse(value);
  if (!url || !["http:", "https:"].includes(url.protocol) || url.search || url.hash || url.username) {
    throw new Error(`expected an http(s) base URL such as https://api.tollgate.example, got "${value}"`);
  }
  return `${url.origin}${url.pathname.replace(/\/+$/, "")}`;
}

/**
 * One request. Resolves with the status, headers and parsed body whatever the status; rejects only when
 * no answer came (refused, DNS, timeout), with a message that names which.
 */
export async function request(url: string, options: RequestOptions = {}): Promise<HttpAnswer> {
  const headers: Record<string, string> = { accept: "application/json", ...(options.headers ?? {}) };
  let body = options.body;
  if (options.json !== undefined) {
    body = JSON.stringify(options.json);
    headers["content-type"] = "application/json";
  }
  const started = Date.now();
  let response: Response;
  try {
    response = await fetch(url, {
      method: options.method ?? (body === undefined ? "GET" : "POST"),
      headers,
      body,
      redirect: "manual",
      signal: AbortSignal.timeout(options.timeoutMs ?? DEFAULT_TIMEOUT_MS),
    });
  } catch (error) {
    throw new Error(describeFetchError(error, url, options.timeoutMs ?? DEFAULT_TIMEOUT_MS));
  }
  const text = await response.text();
  let parsed = null;
  if (/json/.test(response.headers.get("content-type") ?? "")) {
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = null;
    }
  }
  return {
    status: response.status,
    ok: response.ok,
    headers: response.headers,
    body: parsed,
    text,
    ms: Date.now() - started,
  };
}

function describeFetchError(error: unknown, url: string, timeoutMs: number) {
  const where = new URL(url).host;
  const err = error as { name?: string; cause?: { code?: string } };
  if (err?.name === "TimeoutError" || err?.name === "AbortError")
    return `no answer from ${where} in ${timeoutMs} ms`;
  const code = err?.cause?.code;
  if (code === "ECONNREFUSED") return `connection refused by ${where}`;
  if (code === "ENOTFOUND" || code === "EAI_AGAIN") return `cannot resolve ${where}`;
  return `cannot reach ${where}${code ? ` (${code})` : ""}`;
}

/**
 * What a problem+json answer says, in one line: `401 unauthorized: The API key is unknown.`
 */
export function describeAnswer(answer: HttpAnswer): string {
  const body = answer.body;
  if (body && typeof body === "object" && ("code" in body || "detail" in body)) {
    return `${answer.status} ${body.code ?? ""}${body.detail ? `: ${body.detail}` : ""}`.trim();
  }
  return `HTTP ${answer.status}`;
}

export const bearer = (token: string | undefined): Record<string, string> =>
  token ? { authorization: `Bearer ${token}` } : {};

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
