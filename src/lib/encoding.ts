/** Hashing, base64url and id helpers shared by the Worker and the tools (Web Crypto, so both run them). */

const encoder = new TextEncoder();

export function hex(bytes: ArrayBuffer | Uint8Array): string {
  return [...new Uint8Array(bytes)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

export function sha256(text: string): Promise<ArrayBuffer> {
  return crypto.subtle.digest("SHA-256", encoder.encode(text));
}

export async function sha256Hex(text: string): Promise<string> {
  return hex(await sha256(text));
}

export function base64url(bytes: ArrayBuffer | Uint8Array): string {
  return btoa(String.fromCharCode(...new Uint8Array(bytes)))
    .replaceAll("+", "-")
    .replaceAll("/", "_")
    .replace(/=+$/, "");
}

/** The bytes of a base64url (or padded base64) text, or undefined when it is not one. */
export function fromBase64url(text: string): Uint8Array | undefined {
  try {
    const binary = atob(text.replaceAll("-", "+").replaceAll("_", "/"));
    return Uint8Array.from(binary, (ch) => ch.charCodeAt(0));
  } catch {
    return undefined;
  }
}

export function base64urlText(text: string): string {
  return base64url(encoder.encode(text));
}

/** The text a base64url string carries, or undefined when it is not base64url of UTF-8. */
export function fromBase64urlText(text: string): string | undefined {
  const bytes = fromBase64url(text);
  if (!bytes) return undefined;
  try {
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    return undefined;
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Checking ids before they reach SQL keeps a malformed id a "not found", never a cast error. */
export function isUuid(value: unknown): value is string {
  return typeof value === "string" && UUID.test(value);
}

/** A uuid as Postgres writes it (lowercase), e.g. one this server put into Stripe metadata. */
export function isCanonicalUuid(value: unknown): value is string {
  return isUuid(value) && value === value.toLowerCase();
}
