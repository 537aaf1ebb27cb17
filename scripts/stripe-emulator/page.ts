import type { SessionRecord } from "./checkout-sessions.ts";

const ZERO_DECIMAL = new Set("bif clp djf gnf jpy kmf krw mga pyg rwf ugx vnd vuv xaf xof xpf".split(" "));
const ENTITIES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};
const escapeHtml = (value: unknown) => String(value).replace(/[&<>"']/g, (c) => ENTITIES[c] as string);

export function formatAmount(amount: number, currency: string) {
  const major = ZERO_DECIMAL.has(currency) ? amount : amount / 100;
  return new Intl.NumberFormat("en-US", { style: "currency", currency: currency.toUpperCase() }).format(
    major,
  );
}

const STYLE = `
  body { font-family: system-ui, sans-serif; background: #f6f8fa; color: #1a1f36; margin: 0; }
  main { max-width: 28rem; margin: 4rem auto; background: #fff; border-radius: 8px; padding: 2rem;
         box-shadow: 0 2px 8px rgba(0,0,0,.08); }
  .badge { display: inline-block; font-size: .75rem; background: #ffde92; border-radius: 4px; padding: 2px 6px; }
  table { width: 100%; border-collapse: collapse; margin: 1rem 0; }
  td { padding: .4rem 0; } td.amount { text-align: right; }
  tr.total td { border-top: 1px solid #e3e8ee; font-weight: 600; }
  button { width: 100%; padding: .8rem; font-size: 1rem; background: #635bff; color: #fff; border: 0;
           border-radius: 6px; cursor: pointer; }
  fieldset { border: 1px solid #e3e8ee; border-radius: 6px; margin: 1rem 0; font-size: .9rem; }
  a { color: #635bff; }`;

function layout(title: string, body: string) {
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title><style>${STYLE}</style></head>
<body><main>
<span class="badge">Test mode · local Stripe emulator</span>
${body}
</main></body>
</html>`;
}

export function renderCheckoutPage(record: SessionRecord) {
  const { session, lineItems } = record;
  const rows = lineItems
    .map(
      (item) =>
        `<tr><td>${escapeHtml(item.description)} × ${item.quantity}</td>` +
        `<td class="amount">${escapeHtml(formatAmount(item.amount_total, item.currency))}</td></tr>`,
    )
    .join("\n");
  const total = escapeHtml(formatAmount(session.amount_total, session.currency));
  const cancel = session.cancel_url
    ? `<p><a id="cancel" href="${escapeHtml(session.cancel_url)}">← Back</a></p>`
    : "";
  if (session.status !== "open") {
    return layout(
      "Checkout",
      `<h1>This checkout session is ${escapeHtml(session.status)}</h1>
<p>Session <code>${escapeHtml(session.id)}</code> can no longer be paid.</p>`,
    );
  }
  return layout(
    `Pay ${total}`,
    `<h1>Pay ${total}</h1>
<table>
${rows}
<tr class="total"><td>Total due</td><td class="amount" id="total">${total}</td></tr>
</table>
<form method="post" action="/checkout/${escapeHtml(session.id)}/pay">
<fieldset><legend>Test outcome</legend>
<label><input type="radio" name="outcome" value="paid" checked> Card payment succeeds</label><br>
<label><input type="radio" name="outcome" value="async"> Delayed payment that later succeeds</label><br>
<label><input type="radio" name="outcome" value="async_fail"> Delayed payment that later fails</label>
</fieldset>
<button id="pay" type="submit">Pay ${total}</button>
</form>
${cancel}`,
  );
}

export function renderMessagePage(title: string, message: string) {
  return layout(title, `<h1>${escapeHtml(title)}</h1><p>${escapeHtml(message)}</p>`);
}
