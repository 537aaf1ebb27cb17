/** One JSON object per line, so Workers Logs and `wrangler tail` can filter on fields. */
export function logEvent(event: string, fields: Record<string, unknown>) {
  console.log(JSON.stringify({ event, time: new Date().toISOString(), ...fields }));
}
