import type { Random } from "../support/ledger-model.ts";

/**
 * Generators of hostile input for the route fuzz test: random JSON shapes, values of the wrong type,
 * strings that are huge or full of awkward Unicode, malformed bodies and headers. All drawn from one
 * seeded generator, so a failing case can be replayed.
 */

/** Strings that have broken parsers, databases, logs and terminals before. */
const AWKWARD_STRINGS = [
  "",
  " ",
  "\u0000",
  "nul\u0000inside",
  "\ud800",
  "\udfff\ud800",
  "😀👩‍👩‍👧‍👦🏳️‍🌈",
  "\u202eevil\u202c",
  "\u200b\u200c\u200d\ufeff",
  "e\u0301\u0301\u0301\u0301",
  "Ω≈ç√∫˜µ≤≥÷",
  "田中さんにあげて下さい",
  "'; drop table jobs; --",
  "' or '1'='1",
  "$1",
  "%s%s%s%n",
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a template-injection probe, meant literally
  "${7*7}{{7*7}}",
  "<script>alert(1)</script>",
  "../../../../etc/passwd",
  "\r\nSet-Cookie: injected=1",
  "null",
  "undefined",
  "NaN",
  "-0",
  "1e309",
  "0x7fffffffffffffff",
  "9007199254740993",
  "__proto__",
  "constructor",
  "tg_local_",
  "evt_",
  "00000000-0000-0000-0000-000000000000",
];

const AWKWARD_NUMBERS = [
  0,
  -0,
  -1,
  1.5,
  -1.5,
  2 ** 31,
  2 ** 53,
  2 ** 53 + 2,
  -(2 ** 63),
  1e308,
  -1e308,
  5e-324,
  Number.MAX_SAFE_INTEGER,
  Number.MIN_SAFE_INTEGER,
];

const KEYS = [
  "type",
  "input",
  "name",
  "amount",
  "reason",
  "pack_id",
  "id",
  "email",
  "password",
  "status",
  "__proto__",
  "constructor",
  "",
  "😀",
];

export function awkwardString(random: Random): string {
  const roll = random.next();
  if (roll < 0.6) return random.pick(AWKWARD_STRINGS) ?? "";
  if (roll < 0.8) return randomUnicode(random, random.int(1, 64));
  if (roll < 0.95) return "x".repeat(random.int(256, 4096));
  // Past the 64 KiB body limit once serialized.
  return "y".repeat(random.int(70_000, 140_000));
}

/** Code points from every plane, surrogates included (JSON.stringify escapes the lone ones). */
export function randomUnicode(random: Random, length: number): string {
  let out = "";
  for (let i = 0; i < length; i += 1) {
    const plane = random.next();
    const codePoint =
      plane < 0.5
        ? random.int(0x20, 0x7e)
        : plane < 0.8
          ? random.int(0x80, 0xffff)
          : plane < 0.9
            ? random.int(0x10000, 0x10ffff)
            : random.int(0, 0x1f);
    out +=
      codePoint >= 0xd800 && codePoint <= 0xdfff
        ? String.fromCharCode(codePoint)
        : String.fromCodePoint(codePoint);
  }
  return out;
}

/** Any JSON value, up to `depth` levels deep. */
export function randomJson(random: Random, depth = 3): unknown {
  const roll = random.next();
  if (depth <= 0 || roll < 0.15) return random.pick([null, true, false]) ?? null;
  if (roll < 0.3) return random.pick(AWKWARD_NUMBERS) ?? 0;
  if (roll < 0.5) return awkwardString(random);
  if (roll < 0.7) return Array.from({ length: random.int(0, 4) }, () => randomJson(random, depth - 1));
  const object: Record<string, unknown> = {};
  for (let i = random.int(0, 5); i > 0; i -= 1) {
    const key = random.chance(0.7) ? (random.pick(KEYS) ?? "k") : randomUnicode(random, random.int(1, 12));
    // defineProperty: a "__proto__" key must be an own property, as JSON.parse on the server makes it.
    Object.defineProperty(object, key, {
      value: randomJson(random, depth - 1),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return object;
}

/** A valid body with one thing wrong: a field of the wrong type, missing, extra, or nested too deep. */
export function mutate(random: Random, body: unknown): unknown {
  if (body === null || typeof body !== "object" || Array.isArray(body)) return randomJson(random);
  const copy: Record<string, unknown> = structuredClone(body as Record<string, unknown>);
  const keys = Object.keys(copy);
  const key = random.pick(keys);
  const roll = random.next();
  if (key !== undefined && roll < 0.45) copy[key] = randomJson(random, 2);
  else if (key !== undefined && roll < 0.65) delete copy[key];
  else if (roll < 0.85) copy[random.pick(KEYS) ?? "extra"] = randomJson(random, 2);
  else {
    let deep: unknown = awkwardString(random);
    for (let i = random.int(20, 200); i > 0; i -= 1) deep = { [key ?? "k"]: deep };
    copy[key ?? "k"] = deep;
  }
  return copy;
}

/** Bytes that are not the JSON they claim to be. */
export function notJson(random: Random): string | Uint8Array {
  const choices: (string | Uint8Array)[] = [
    "",
    "{",
    "[1, 2",
    '{"type": "echo",}',
    "{'single': 'quotes'}",
    "null",
    "\u0000",
    "a=1&b=2",
    "<xml/>",
    '{"a":1}{"b":2}',
    new Uint8Array([0xff, 0xfe, 0x7b, 0x7d]),
    new Uint8Array([0x7b, 0x22, 0xc3, 0x28, 0x22, 0x3a, 0x31, 0x7d]),
    `{"a":"${"\\u0000".repeat(50)}"}`,
    "[".repeat(5000) + "]".repeat(5000),
  ];
  return random.pick(choices) ?? "{";
}

/** Header values a client might send: latin-1 only, since anything else cannot be put on the wire. */
export function awkwardHeaderValue(random: Random): string {
  const choices = [
    "",
    " ",
    "a".repeat(8192),
    "\u00ff\u00fe\u00e9",
    "Bearer",
    "Bearer ",
    `Bearer tg_local_${"A".repeat(43)}`,
    `Bearer tg_production_${"A".repeat(43)}`,
    "Basic dXNlcjpwYXNz",
    "t=1,v1=deadbeef",
    "t=abc,v1=",
    "application/json; charset=utf-16",
    "text/plain",
    "multipart/form-data; boundary=x",
    "key, other-key",
    '"quoted"',
  ];
  return random.pick(choices) ?? "";
}

/** Path segments where an id belongs. */
export function awkwardId(random: Random): string {
  const choices = [
    "not-a-uuid",
    "00000000-0000-0000-0000-000000000000",
    crypto.randomUUID(),
    crypto.randomUUID().toUpperCase(),
    "%2e%2e%2f%2e%2e%2fetc",
    "%00",
    encodeURIComponent("😀"),
    encodeURIComponent("' or 1=1 --"),
    "a".repeat(2000),
    `evt_${"z".repeat(300)}`,
    "1",
    "-1",
    "null",
  ];
  return random.pick(choices) ?? "x";
}

/** Query strings for the listing routes. */
export function awkwardQuery(random: Random): string {
  const params = new URLSearchParams();
  for (let i = random.int(1, 4); i > 0; i -= 1) {
    const name =
      random.pick(["limit", "cursor", "status", "limit", "cursor", "x", "limit[]", "status"]) ?? "x";
    const value =
      random.pick([
        "-1",
        "0",
        "1e9",
        "abc",
        "",
        "101",
        "queued",
        "QUEUED",
        "succeeded,failed",
        "%00",
        "9".repeat(40),
      ]) ?? "";
    params.append(name, random.chance(0.3) ? randomUnicode(random, random.int(1, 20)) : value);
  }
  return params.toString();
}
