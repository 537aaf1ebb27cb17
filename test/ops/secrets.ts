/** Secrets of every kind the scrubber must remove, shared by the Sentry and scrubber tests. */
export const API_KEY = `tg_local_${"K".repeat(43)}`;
export const EMAIL = "ada.lovelace@example.com";
export const COOKIE = "__Secure-tollgate.session_token=sessiontokenvalue.signature0123";
export const STRIPE_SIGNATURE =
  "t=1764331200,v1=5257a869e7ecebeda32affa62cdca3fa51cad7e77a0e56ff536d0ce8e108d8bd";
export const DATABASE_PASSWORD = "pg-password-s3cret";
