import { randomBytes } from "node:crypto";
import type Stripe from "stripe";

/** Request params as decoded from Stripe's form encoding (or a control route's JSON); endpoints narrow them. */
export type Params = Record<string, unknown>;

export type List<T> = Stripe.ApiList<T>;

const ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

export function randomToken(length: number) {
  let out = "";
  for (const byte of randomBytes(length)) out += ALPHABET[byte % ALPHABET.length];
  return out;
}

export const newId = (prefix: string, length = 24) => `${prefix}_${randomToken(length)}`;

export const nowSeconds = () => Math.floor(Date.now() / 1000);

export type ApiErrorOptions = { code?: string; param?: string };
export type ApiErrorBody = { error: { type: string; message: string; code?: string; param?: string } };

export class StripeApiError extends Error {
  statusCode: number;
  type: string;
  code: string | undefined;
  param: string | undefined;

  constructor(statusCode: number, type: string, message: string, { code, param }: ApiErrorOptions = {}) {
    super(message);
    this.statusCode = statusCode;
    this.type = type;
    this.code = code;
    this.param = param;
  }

  toBody(): ApiErrorBody {
    const error: ApiErrorBody["error"] = { type: this.type, message: this.message };
    if (this.code) error.code = this.code;
    if (this.param) error.param = this.param;
    return { error };
  }
}

export const invalidRequest = (message: string, options?: ApiErrorOptions) =>
  new StripeApiError(400, "invalid_request_error", message, options);

// Stripe answers 404 when the id is in the URL and 400 when it is a reference inside the params.
export const noSuchResource = (
  kind: string,
  id: unknown,
  { param, statusCode = 404 }: { param?: string; statusCode?: number } = {},
) =>
  new StripeApiError(statusCode, "invalid_request_error", `No such ${kind}: '${id}'`, {
    code: "resource_missing",
    param,
  });

export const idempotencyError = (message: string, statusCode = 400) =>
  new StripeApiError(statusCode, "idempotency_error", message);

/** A nested param (`metadata[k]=v`): form decoding never yields null, so this only rules out strings and arrays. */
export const isHash = (value: unknown): value is Params =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/** Rejects parameters outside `allowed`, which is how Stripe catches typos in param names. */
export function rejectUnknownParams(params: object, allowed: Set<string>, prefix = "") {
  for (const key of Object.keys(params)) {
    if (!allowed.has(key)) {
      const name = prefix ? `${prefix}[${key}]` : key;
      throw invalidRequest(`Received unknown parameter: ${name}`, { param: name });
    }
  }
}

export function parseInteger(value: unknown, param: string, { min }: { min?: number } = {}) {
  if (typeof value !== "string" || !/^-?\d+$/.test(value)) {
    throw invalidRequest(`Invalid integer: ${typeof value === "string" ? value : "object"}`, { param });
  }
  const n = Number(value);
  if (min !== undefined && n < min) {
    throw invalidRequest(`This value must be greater than or equal to ${min}.`, { param });
  }
  return n;
}

export function parseBoolean(value: unknown, param: string) {
  if (value === "true") return true;
  if (value === "false") return false;
  throw invalidRequest(`Invalid boolean: ${typeof value === "string" ? value : "object"}`, { param });
}

export function requireString(value: unknown, param: string, { maxLength }: { maxLength?: number } = {}) {
  if (typeof value !== "string") throw invalidRequest(`Invalid string: ${param}`, { param });
  if (maxLength !== undefined && value.length > maxLength) {
    throw invalidRequest(`Invalid string: must be at most ${maxLength} characters`, { param });
  }
  return value;
}

export function parseUrl(value: unknown, param: string) {
  const text = requireString(value, param, { maxLength: 5000 });
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw invalidRequest("Not a valid URL", { param });
  }
  if (url.protocol !== "http:" && url.protocol !== "https:")
    throw invalidRequest("Not a valid URL", { param });
  return text;
}

export function parseStringArray(value: unknown, param: string): string[] {
  if (!Array.isArray(value) || value.some((v) => typeof v !== "string")) {
    throw invalidRequest("Invalid array", { param });
  }
  return value;
}

export function parseMetadata(value: unknown, param = "metadata"): Record<string, string> {
  if (value === undefined || value === "") return {};
  if (typeof value !== "object" || Array.isArray(value)) throw invalidRequest("Invalid hash", { param });
  const entries = Object.entries(value as Params);
  if (entries.length > 50) throw invalidRequest("Metadata can have at most 50 keys.", { param });
  for (const [key, v] of entries) {
    if (key.length > 40) throw invalidRequest("Metadata keys can be at most 40 characters.", { param });
    if (typeof v !== "string") throw invalidRequest("Invalid string", { param: `${param}[${key}]` });
    if (v.length > 500) {
      throw invalidRequest("Metadata values can be at most 500 characters.", { param: `${param}[${key}]` });
    }
  }
  return Object.fromEntries((entries as [string, string][]).filter(([, v]) => v !== ""));
}

const RANGE_OPERATORS = new Set(["gt", "gte", "lt", "lte"]);

/** `created=123` or `created[gte]=...`, as the list endpoints take them. */
export function parseRange(value: unknown, param: string): (n: number) => boolean {
  if (value === undefined) return () => true;
  if (typeof value === "string") {
    const exact = parseInteger(value, param);
    return (n) => n === exact;
  }
  rejectUnknownParams(value as Params, RANGE_OPERATORS, param);
  const bounds = Object.entries(value as Params).map(
    ([op, v]) => [op, parseInteger(v, `${param}[${op}]`)] as const,
  );
  return (n) =>
    bounds.every(([op, bound]) => {
      if (op === "gt") return n > bound;
      if (op === "gte") return n >= bound;
      if (op === "lt") return n < bound;
      return n <= bound;
    });
}

export const PAGINATION_PARAMS = ["limit", "starting_after", "ending_before", "expand"];

/** Cursor pagination over `items`, already ordered newest first like every Stripe list. */
export function paginate<T extends { id: string }>(
  items: T[],
  params: Params,
  url: string,
  kind: string,
): List<T> {
  const limit = params.limit === undefined ? 10 : parseInteger(params.limit, "limit", { min: 1 });
  if (limit > 100) throw invalidRequest("This value must be less than or equal to 100.", { param: "limit" });
  const cursorIndex = (param: string) => {
    const index = items.findIndex((item) => item.id === params[param]);
    if (index === -1) throw noSuchResource(kind, params[param], { param, statusCode: 400 });
    return index;
  };
  if (params.starting_after !== undefined && params.ending_before !== undefined) {
    throw invalidRequest("You may only specify one of these parameters: starting_after, ending_before.");
  }
  if (params.ending_before !== undefined) {
    const before = items.slice(0, cursorIndex("ending_before"));
    return { object: "list", data: before.slice(-limit), has_more: before.length > limit, url };
  }
  const rest = params.starting_after === undefined ? items : items.slice(cursorIndex("starting_after") + 1);
  return { object: "list", data: rest.slice(0, limit), has_more: rest.length > limit, url };
}

export function parseExpand(value: unknown, allowed: Set<string>) {
  if (value === undefined) return new Set<string>();
  const list = parseStringArray(value, "expand");
  for (const field of list) {
    if (!allowed.has(field))
      throw invalidRequest(`This property cannot be expanded (${field}).`, { param: "expand" });
  }
  return new Set(list);
}
