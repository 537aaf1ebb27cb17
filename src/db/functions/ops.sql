-- Operations (docs/ARCHITECTURE.md, operations; README "Operations"): metrics, per-minute
-- snapshots, alert state and its notification outbox, dead-letter retries and the console's data,
-- each one statement from a Worker.
--
-- Applied by npm run db:migrate after the migrations in drizzle/ whenever this file, or one before
-- it (ledger, auth, jobs, billing, ops), changed; so every statement is re-runnable: CREATE OR
-- REPLACE. That cannot change a function's argument or return types: such a change (or removing a
-- function) adds `DROP FUNCTION IF EXISTS name(old argument types);` before the new definition.
-- Then npm run db:generate refreshes checksums.json. Rules: docs/OPERATIONS.md, "Migrations".

-- The live figures that are cheap to compute (no ledger scan): what a snapshot stores and what
-- ops_metrics() starts from. failed_jobs_1h counts jobs that ended failed or dead_lettered in the hour.
CREATE OR REPLACE FUNCTION ops_current_figures(p_now timestamptz DEFAULT now())
RETURNS TABLE (
  queue_depth bigint, running bigint, dead_letter_total bigint, failed_jobs_1h bigint,
  webhook_failures_1h bigint, reconcile_repairs_24h bigint, heartbeat_age_s double precision,
  jobs_by_status jsonb
)
LANGUAGE sql STABLE AS $$
  WITH by_status AS (
    SELECT s.status, count(j.id) AS n
    FROM unnest(ARRAY['queued', 'running', 'succeeded', 'failed', 'dead_lettered', 'canceled', 'expired'])
      AS s (status)
    LEFT JOIN jobs j ON j.status = s.status
    GROUP BY s.status
  ), heartbeat AS (
    SELECT max(h.seen_at) AS seen_at FROM worker_heartbeats h
  )
  SELECT
    (SELECT b.n FROM by_status b WHERE b.status = 'queued'),
    (SELECT b.n FROM by_status b WHERE b.status = 'running'),
    (SELECT b.n FROM by_status b WHERE b.status = 'dead_lettered'),
    (SELECT count(*) FROM jobs j
     WHERE j.status IN ('failed', 'dead_lettered') AND j.finished_at > p_now - interval '1 hour'),
    bc.webhook_failures_1h,
    bc.reconcile_repairs_24h,
    -- greatest() skips NULLs, so "never" must be kept NULL explicitly.
    CASE WHEN hb.seen_at IS NULL THEN NULL
      ELSE greatest(0, extract(epoch FROM p_now - hb.seen_at))::double precision END,
    (SELECT jsonb_object_agg(b.status, b.n) FROM by_status b)
  FROM billing_counters(p_now) bc, heartbeat hb
$$;

-- GET /api/ops/metrics in one statement. Growth is the change since the newest snapshot at least an
-- hour old; while there is none yet (a new deployment), since the oldest snapshot; with no snapshot at
-- all, 0. growth_since says which minute that was. ledger_ok runs ledger_check(): it reads every
-- transfer, so it belongs here and in the per-minute alert evaluation, never on a customer's path.
CREATE OR REPLACE FUNCTION ops_metrics(p_now timestamptz DEFAULT now())
RETURNS TABLE (
  worker_heartbeat_age_s double precision, webhook_failures_1h bigint, failed_jobs_1h bigint,
  queue_depth bigint, queue_growth_1h bigint, dead_letter_total bigint, dead_letter_growth_1h bigint,
  jobs_by_status jsonb, reconcile_repairs_24h bigint, ledger_ok boolean, growth_since timestamptz
)
LANGUAGE sql STABLE AS $$
  WITH f AS (
    SELECT * FROM ops_current_figures(p_now)
  ), baseline AS (
    SELECT b.minute, b.queue_depth, b.dead_letter_total FROM (
      (SELECT 0 AS pick, s.minute, s.queue_depth, s.dead_letter_total FROM metric_snapshots s
       WHERE s.minute <= p_now - interval '1 hour' ORDER BY s.minute DESC LIMIT 1)
      UNION ALL
      (SELECT 1, s.minute, s.queue_depth, s.dead_letter_total FROM metric_snapshots s
       ORDER BY s.minute LIMIT 1)
    ) b
    ORDER BY b.pick LIMIT 1
  )
  SELECT f.heartbeat_age_s, f.webhook_failures_1h, f.failed_jobs_1h,
    f.queue_depth, f.queue_depth - coalesce(b.queue_depth, f.queue_depth),
    f.dead_letter_total, f.dead_letter_total - coalesce(b.dead_letter_total, f.dead_letter_total),
    f.jobs_by_status, f.reconcile_repairs_24h,
    (SELECT coalesce(bool_and(coalesce(c.ok, false)), true) FROM ledger_check() c),
    b.minute
  FROM f LEFT JOIN baseline b ON true
$$;

-- The every-minute snapshot and the pruning that goes with it, one statement. The minute is the key,
-- so two crons in the same minute write one row. Kept p_retention_days: snapshots, heartbeats (the
-- newest always stays, so the heartbeat age never turns into "never") and delivered notifications.
CREATE OR REPLACE FUNCTION take_metric_snapshot(p_retention_days integer DEFAULT 30)
RETURNS TABLE (minute timestamptz, taken boolean, pruned bigint)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
  v_minute timestamptz := date_trunc('minute', now());
  v_cutoff timestamptz := now() - make_interval(days => greatest(p_retention_days, 1));
  v_taken boolean;
  v_pruned bigint;
BEGIN
  INSERT INTO metric_snapshots AS s (minute, queue_depth, running, dead_letter_total, failed_jobs_1h,
    webhook_failures_1h, heartbeat_age_s)
  SELECT v_minute, f.queue_depth, f.running, f.dead_letter_total, f.failed_jobs_1h, f.webhook_failures_1h,
    f.heartbeat_age_s
  FROM ops_current_figures(now()) f
  ON CONFLICT (minute) DO NOTHING;
  v_taken := FOUND;

  DELETE FROM metric_snapshots s WHERE s.minute < v_cutoff;
  GET DIAGNOSTICS v_pruned = ROW_COUNT;
  DELETE FROM worker_heartbeats h
  WHERE h.seen_at < v_cutoff AND h.seen_at < (SELECT max(x.seen_at) FROM worker_heartbeats x);
  DELETE FROM alert_notifications n WHERE n.delivered_at < v_cutoff;

  minute := v_minute;
  taken := v_taken;
  pruned := v_pruned;
  RETURN NEXT;
END
$$;

-- Records one evaluation of every alert rule and claims the notifications due, in one statement.
-- p_evaluations: [{rule, breached, value, threshold, summary}].
-- A rule changes state (ok ↔ firing) only when its last change is older than p_cooldown_seconds; the
-- UPDATE that changes it is the claim: a concurrent evaluation waits for the row, then finds the
-- status already changed and records nothing, so each transition yields exactly one notification.
-- Then it leases up to p_limit undelivered notifications (oldest first) for p_lease_seconds and
-- answers them; finish_alert_deliveries() marks them delivered after a 2xx, else the next call
-- claims them again once the lease ends.
CREATE OR REPLACE FUNCTION record_alert_evaluations(
  p_evaluations jsonb, p_cooldown_seconds integer, p_lease_seconds integer, p_limit integer DEFAULT 20
)
RETURNS TABLE (
  id bigint, rule text, event text, value double precision, threshold double precision, summary text,
  created_at timestamptz, attempts integer
)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
BEGIN
  -- A rule seen for the first time starts ok, so one breached at once still notifies.
  INSERT INTO alert_state AS s (rule, status)
  SELECT e.rule, 'ok' FROM jsonb_to_recordset(p_evaluations) AS e (rule text)
  ORDER BY e.rule
  ON CONFLICT (rule) DO NOTHING;

  WITH e AS (
    SELECT x.rule, CASE WHEN x.breached THEN 'firing' ELSE 'ok' END AS target, x.value, x.threshold, x.summary
    FROM jsonb_to_recordset(p_evaluations) AS x (rule text, breached boolean, value double precision,
      threshold double precision, summary text)
  ), moved AS (
    UPDATE alert_state s
    SET status = e.target, changed_at = now(), value = e.value, threshold = e.threshold, summary = e.summary,
      evaluated_at = now()
    FROM e
    WHERE s.rule = e.rule AND s.status <> e.target
      AND (s.changed_at IS NULL OR s.changed_at <= now() - make_interval(secs => greatest(p_cooldown_seconds, 0)))
    RETURNING s.rule, s.status, s.value, s.threshold, s.summary
  )
  INSERT INTO alert_notifications AS n (rule, event, value, threshold, summary)
  SELECT m.rule, CASE WHEN m.status = 'firing' THEN 'firing' ELSE 'resolved' END, m.value, m.threshold, m.summary
  FROM moved m
  ORDER BY m.rule;

  -- The latest figures of every rule, changed or not, for the console.
  UPDATE alert_state s
  SET value = x.value, threshold = x.threshold, summary = x.summary, evaluated_at = now()
  FROM jsonb_to_recordset(p_evaluations) AS x (rule text, value double precision, threshold double precision,
    summary text)
  WHERE s.rule = x.rule;

  RETURN QUERY
  UPDATE alert_notifications n
  SET lease_until = now() + make_interval(secs => greatest(p_lease_seconds, 1)), attempts = n.attempts + 1
  WHERE n.id IN (
    SELECT d.id FROM alert_notifications d
    WHERE d.delivered_at IS NULL AND (d.lease_until IS NULL OR d.lease_until < now())
    ORDER BY d.id LIMIT greatest(p_limit, 0)
    FOR UPDATE SKIP LOCKED
  )
  RETURNING n.id, n.rule, n.event, n.value, n.threshold, n.summary, n.created_at, n.attempts;
END
$$;

-- The outcome of the deliveries record_alert_evaluations() leased. p_results: [{id, delivered, error}].
-- Delivered rows are done for good; the others lose their lease (the next tick retries them) and keep
-- the error class for the console.
CREATE OR REPLACE FUNCTION finish_alert_deliveries(p_results jsonb)
RETURNS TABLE (id bigint, delivered boolean)
LANGUAGE sql AS $$
  UPDATE alert_notifications n
  SET delivered_at = CASE WHEN r.delivered THEN now() END,
    lease_until = NULL,
    last_error = CASE WHEN r.delivered THEN NULL ELSE left(r.error, 200) END
  FROM jsonb_to_recordset(p_results) AS r (id bigint, delivered boolean, error text)
  WHERE n.id = r.id AND n.delivered_at IS NULL
  RETURNING n.id, n.delivered_at IS NOT NULL
$$;

-- Dead letters an operator has not retried yet, newest first.
CREATE OR REPLACE FUNCTION ops_dead_letters(p_limit integer DEFAULT 50)
RETURNS TABLE (
  id uuid, account_id uuid, type text, cost bigint, attempts integer, max_attempts integer, last_error text,
  created_at timestamptz, finished_at timestamptz
)
LANGUAGE sql STABLE AS $$
  SELECT j.id, j.account_id, j.type, j.cost, j.attempts, j.max_attempts, j.last_error, j.created_at, j.finished_at
  FROM jobs j
  WHERE j.status = 'dead_lettered' AND NOT EXISTS (SELECT 1 FROM dead_letter_retries r WHERE r.job_id = j.id)
  ORDER BY j.finished_at DESC NULLS LAST, j.id
  LIMIT greatest(p_limit, 0)
$$;

-- Webhook deliveries that failed on Tollgate's side and whose event has not been processed since
-- (neither by Stripe's own retry nor by a reprocess): one row per event, its latest failure, newest
-- first. Failures without an event id (the body could not be read) are listed too, for the record.
CREATE OR REPLACE FUNCTION ops_webhook_failures(p_limit integer DEFAULT 50, p_days integer DEFAULT 7)
RETURNS TABLE (
  id bigint, event_id text, event_type text, reason text, detail text, failures bigint, last_failed_at timestamptz
)
LANGUAGE sql STABLE AS $$
  SELECT x.id, x.event_id, x.event_type, x.reason, x.detail, x.failures, x.created_at FROM (
    SELECT DISTINCT ON (coalesce(f.event_id, f.id::text)) f.id, f.event_id, f.event_type, f.reason, f.detail,
      count(*) OVER (PARTITION BY coalesce(f.event_id, f.id::text)) AS failures, f.created_at
    FROM webhook_failures f
    WHERE f.created_at > now() - make_interval(days => greatest(p_days, 1))
      AND NOT EXISTS (SELECT 1 FROM stripe_events e WHERE e.event_id = f.event_id)
    ORDER BY coalesce(f.event_id, f.id::text), f.created_at DESC
  ) x
  ORDER BY x.created_at DESC
  LIMIT greatest(p_limit, 0)
$$;

-- Retries a dead-lettered job as a NEW job with a NEW hold (the dead letter's hold was released, and a
-- hold resolves once), through create_job: the same account, type, input, cost and attempts, the
-- Idempotency-Key `ops-retry:<dead job id>`. An account that can no longer pay is refused (reason
-- insufficient_credits) and nothing is stored. The dead letter's row lock serialises two operators
-- clicking at once; dead_letter_retries makes it at most once for good.
-- outcome: retried | already_retried | refused | not_dead_lettered | not_found.
CREATE OR REPLACE FUNCTION retry_dead_letter(p_job_id uuid)
RETURNS TABLE (outcome text, reason text, retry_job_id uuid, job jsonb, available bigint)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
  v_job jobs;
  v_existing uuid;
  v_created record;
  v_new uuid;
BEGIN
  SELECT * INTO v_job FROM jobs j WHERE j.id = p_job_id FOR UPDATE;
  IF NOT FOUND THEN
    outcome := 'not_found'; RETURN NEXT; RETURN;
  END IF;
  SELECT r.retry_job_id INTO v_existing FROM dead_letter_retries r WHERE r.job_id = p_job_id;
  IF v_existing IS NOT NULL THEN
    outcome := 'already_retried';
    retry_job_id := v_existing;
    SELECT to_jsonb(j) INTO job FROM jobs j WHERE j.id = v_existing;
    RETURN NEXT; RETURN;
  END IF;
  IF v_job.status <> 'dead_lettered' THEN
    outcome := 'not_dead_lettered'; reason := v_job.status; RETURN NEXT; RETURN;
  END IF;

  SELECT * INTO v_created FROM create_job('account', v_job.account_id::text, 'ops-retry:' || p_job_id::text,
    encode(sha256(convert_to('ops-retry ' || p_job_id::text, 'UTF8')), 'hex'), v_job.type, v_job.input,
    v_job.cost, v_job.max_attempts);
  available := v_created.available;
  IF v_created.status <> 'created' THEN
    outcome := 'refused'; reason := coalesce(v_created.reason, v_created.status); RETURN NEXT; RETURN;
  END IF;
  v_new := (v_created.job ->> 'id')::uuid;
  INSERT INTO dead_letter_retries (job_id, retry_job_id) VALUES (p_job_id, v_new);
  outcome := 'retried';
  retry_job_id := v_new;
  job := v_created.job;
  RETURN NEXT;
END
$$;

-- Everything the /ops console shows, in one statement: the metrics, 24 h of snapshots in 5-minute
-- buckets (the worst value of each bucket), the alert rules, recent notifications, open dead letters
-- and unprocessed webhook failures.
CREATE OR REPLACE FUNCTION ops_console(p_limit integer DEFAULT 50)
RETURNS TABLE (
  metrics jsonb, series jsonb, alerts jsonb, notifications jsonb, dead_letters jsonb, webhook_failures jsonb
)
LANGUAGE sql STABLE AS $$
  SELECT
    (SELECT to_jsonb(m) FROM ops_metrics() m),
    (SELECT coalesce(jsonb_agg(jsonb_build_object(
        'at', b.bucket, 'queue_depth', b.queue_depth, 'failed_jobs_1h', b.failed_jobs_1h,
        'webhook_failures_1h', b.webhook_failures_1h, 'dead_letter_total', b.dead_letter_total,
        'heartbeat_age_s', b.heartbeat_age_s) ORDER BY b.bucket), '[]'::jsonb)
     FROM (
       SELECT date_bin('5 minutes', s.minute, TIMESTAMPTZ '2000-01-01') AS bucket,
         max(s.queue_depth) AS queue_depth, max(s.failed_jobs_1h) AS failed_jobs_1h,
         max(s.webhook_failures_1h) AS webhook_failures_1h, max(s.dead_letter_total) AS dead_letter_total,
         max(s.heartbeat_age_s) AS heartbeat_age_s
       FROM metric_snapshots s WHERE s.minute > now() - interval '24 hours'
       GROUP BY 1
     ) b),
    (SELECT coalesce(jsonb_agg(to_jsonb(a) ORDER BY (a.status = 'firing') DESC, a.rule), '[]'::jsonb) FROM alert_state a),
    (SELECT coalesce(jsonb_agg(to_jsonb(n) ORDER BY n.id DESC), '[]'::jsonb)
     FROM (SELECT * FROM alert_notifications ORDER BY id DESC LIMIT 10) n),
    (SELECT coalesce(jsonb_agg(to_jsonb(d)), '[]'::jsonb) FROM ops_dead_letters(p_limit) d),
    (SELECT coalesce(jsonb_agg(to_jsonb(w)), '[]'::jsonb) FROM ops_webhook_failures(p_limit) w)
$$;
