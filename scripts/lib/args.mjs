// The scripts still in JavaScript import this name; the implementation is args.ts.
export { parseCli } from "./args.ts";
