/**
 * Decodes Stripe's form encoding (`metadata[k]=v`, `line_items[0][price_data][unit_amount]=500`,
 * `expand[]=x`) into nested objects and arrays. Every leaf stays a string: each endpoint
 * parses its own integers and booleans, so it can name the offending param the way Stripe does.
 */
export function parseStripeParams(text) {
  const root = Object.create(null);
  for (const [rawKey, value] of new URLSearchParams(text)) {
    const path = splitKey(rawKey);
    if (path.some((segment) => segment === "__proto__")) continue;
    let node = root;
    for (let i = 0; i < path.length; i++) {
      const segment = path[i] === "" ? String(Object.keys(node).length) : path[i];
      if (i === path.length - 1) {
        node[segment] = value;
      } else {
        if (typeof node[segment] !== "object") node[segment] = Object.create(null);
        node = node[segment];
      }
    }
  }
  return normalise(root, null);
}

function splitKey(key) {
  const open = key.indexOf("[");
  if (open <= 0) return [key];
  const segments = [key.slice(0, open)];
  for (const match of key.slice(open).matchAll(/\[([^\]]*)\]/g)) segments.push(match[1]);
  return segments;
}

// Objects keyed 0..n become arrays, except metadata, whose keys are the caller's own strings.
function normalise(node, parentKey) {
  if (typeof node !== "object") return node;
  const keys = Object.keys(node);
  if (parentKey !== "metadata" && keys.length > 0 && keys.every((k) => /^\d+$/.test(k))) {
    return keys.sort((a, b) => Number(a) - Number(b)).map((k) => normalise(node[k], k));
  }
  return Object.fromEntries(keys.map((k) => [k, normalise(node[k], k)]));
}

/** JSON with sorted keys, so two requests carrying the same params compare equal whatever their order. */
export function canonicalJson(value) {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value && typeof value === "object") {
    const keys = Object.keys(value).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(value[k])}`).join(",")}}`;
  }
  return JSON.stringify(value);
}
