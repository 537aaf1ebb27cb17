import { fromBase64url } from "../lib/encoding.ts";
import { SESSION_COOKIE } from "./better-auth.ts";

/** The raw value of one cookie in a `Cookie` header (the first, as browsers send the most specific first). */
export function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq === -1) continue;
    if (part.slice(0, eq).trim() !== name) continue;
    let value = part.slice(eq + 1).trim();
    if (value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
    try {
      return decodeURIComponent(value);
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/**
 * The session token from better-auth's signed session cookie (`<token>.<base64 HMAC-SHA256>`), or
 * undefined when the cookie is absent or its signature is not BETTER_AUTH_SECRET's. Checking the
 * signature first means a forged cookie never costs a database round trip.
 */
export async function sessionTokenFromCookie(cookieHeader: string | undefined, secret: string | undefined) {
  if (!secret) return undefined;
  const value = readCookie(cookieHeader, SESSION_COOKIE);
  if (!value) return undefined;
  const dot = value.lastIndexOf(".");
  if (dot < 1) return undefined;
  const token = value.slice(0, dot);
  const signature = fromBase64url(value.slice(dot + 1));
  if (signature?.length !== 32) return undefined;
  const encoder = new TextEncoder();
  const key = await crypto.subtle.importKey(
    "raw",
    encoder.encode(secret),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["verify"],
  );
  const valid = await crypto.subtle.verify("HMAC", key, signature, encoder.encode(token));
  return valid ? token : undefined;
}
