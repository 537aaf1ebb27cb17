/**
 * Queue names carry the environment (`jobs-<env>`, `jobs-dlq-<env>`), so a queue's role is read from
 * the name's pattern rather than compared to one fixed string.
 */
const JOBS_QUEUE = /^jobs-(local|staging|production)$/;
const DEAD_LETTER_QUEUE = /^jobs-dlq-(local|staging|production)$/;

export function queueRole(queueName: string): "jobs" | "deadLetter" | undefined {
  if (DEAD_LETTER_QUEUE.test(queueName)) return "deadLetter";
  if (JOBS_QUEUE.test(queueName)) return "jobs";
  return undefined;
}
