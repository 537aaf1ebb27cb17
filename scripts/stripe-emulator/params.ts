import type { Params } from "./util.ts";

type Node = { [key: string]: string | Node };

/**
 * Decodes Stripe's form encoding (`metadata[k]=v`, `line_items[0][price_data][unit_amount]=500`,
 * `expand[]=x`) into nested objects and arrays. Every leaf stays a string: each endpoint
 * parses its own integers and booleans, so it can name the offending param the way Stripe does.
 */
export function parseStripeParams(text: string): Params {
  const root: Node = Object.create(null);
  for (const [rawKey, value] of new URLSearchParams(text)) {
    const path = splitKey(rawKey);
    if (path.some((segment) => segment === "__proto__")) continue;
    let node = root;
    for (let i = 0; i < path.length; i++) {
      const segment = path[i] === "" ? String(Object.keys(node).length) : (path[i] as string);
      if (i === path.length - 1) {
        node[segment] = value;
      } else {
        if (typeof node[segment] !== "object") node[segment] = Object.create(null);
        node = node[segment] as Node;
      }
    }
  }
  return normalise(root, null) as Params;
}

function splitKey(key: string) {
  const open = key.indexOf("[");
  if (open <= 0) return [key];
  const segments = [key.slice(0, open)];
  for (const match of key.slice(open).matchAll(/\[([^\]]*)\]/g)) segments.push(match[1] as string);
  return segments;
}

// Objects keyed 0..n become arrays, except metadata, whose keys are the caller's own strings.
function normalise(node: string | Node, parentKey: string | null): unknown {
  if (typeof node !== "object") return node;
  const keys = Object.keys(node);
  if (parentKey !== "metadata" && keys.length > 0 && keys.every((k) => /^\d+$/.test(k))) {
    return keys.sort((a, b) => Number(a) - Number(b)).map((k) => normalise(node[k] as string | Node, k));
  }
  return Object.fromEntries(keys.map((k) => [k, normalise(node[k] as string | Node, k)]));
}

/** JSON with sorted keys, so two requests carrying the same params compare equal whatever their order. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value && typeof value === "object") {
    const keys = Object.keys(value).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Params)[k])}`).join(",")}}`;
  }
  return JSON.stringify(value);
}
