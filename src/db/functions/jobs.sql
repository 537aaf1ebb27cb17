-- Paid jobs (docs/ARCHITECTURE.md, the jobs model; docs/JOB_TYPES.md). Each state change of a job
-- is one call of one of these functions: one statement, one round trip from a Worker, every check
-- made under the row locks. Functions answer with rows describing what happened instead of raising,
-- like the ledger's.
--
-- Lock order, the same everywhere so that two of these never deadlock: job rows (by id), then the
-- jobs' hold transfers (by id), then ledger accounts (ledger_lock_accounts: ascending id). The sweeper,
-- which meets holds before jobs when it expires them, never waits for a job row (SKIP LOCKED).
--
-- Applied by npm run db:migrate after the migrations in drizzle/ whenever this file, or one before
-- it (ledger, auth, jobs, billing, ops), changed; so every statement is re-runnable: CREATE OR
-- REPLACE. That cannot change a function's argument or return types: such a change (or removing a
-- function) adds `DROP FUNCTION IF EXISTS name(old argument types);` before the new definition.
-- Then npm run db:generate refreshes checksums.json. Rules: docs/OPERATIONS.md, "Migrations".

-- Locks the given holds and every ledger account they touch, in the global order, before a batch
-- resolves them one by one: otherwise two batches over the same accounts could lock them in
-- different orders.
CREATE OR REPLACE FUNCTION jobs_lock_holds(p_hold_ids bigint[]) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  v_accounts bigint[];
BEGIN
  IF coalesce(cardinality(p_hold_ids), 0) = 0 THEN
    RETURN;
  END IF;
  PERFORM 1 FROM transfers t WHERE t.id = ANY (p_hold_ids) ORDER BY t.id FOR NO KEY UPDATE;
  SELECT array_agg(DISTINCT x.id) INTO v_accounts FROM (
    SELECT t.debit_account_id AS id FROM transfers t WHERE t.id = ANY (p_hold_ids)
    UNION SELECT t.credit_account_id FROM transfers t WHERE t.id = ANY (p_hold_ids)
  ) x;
  PERFORM ledger_lock_accounts(v_accounts);
END
$$;

-- Ends jobs without (further) running them: each job among p_job_ids whose status is in p_from gets
-- p_status and its hold released, at most once (release_hold resolves a hold once; a hold that
-- expired meanwhile stays expired). last_error keeps the job's own error, else takes p_error.
-- Answers one row per job it ended.
CREATE OR REPLACE FUNCTION jobs_release(p_job_ids uuid[], p_status text, p_from text[], p_error text DEFAULT NULL)
RETURNS TABLE (job_id uuid, status text)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
  v_ids uuid[];
  v_holds bigint[];
  v_hold bigint;
BEGIN
  WITH target AS (
    SELECT j.id, j.hold_id FROM jobs j
    WHERE j.id = ANY (p_job_ids) AND j.status = ANY (p_from)
    ORDER BY j.id FOR UPDATE
  )
  SELECT array_agg(target.id), array_agg(target.hold_id) INTO v_ids, v_holds FROM target;
  IF v_ids IS NULL THEN
    RETURN;
  END IF;
  PERFORM jobs_lock_holds(v_holds);
  FOREACH v_hold IN ARRAY v_holds LOOP
    PERFORM release_hold(v_hold, jsonb_build_object('reason', p_status));
  END LOOP;
  RETURN QUERY
  UPDATE jobs j
  SET status = p_status, last_error = coalesce(j.last_error, p_error), lease_until = NULL,
    finished_at = now(), updated_at = now()
  WHERE j.id = ANY (v_ids)
  RETURNING j.id, j.status;
END
$$;

-- POST /api/jobs in one statement: resolves the caller, claims the Idempotency-Key (scoped to the
-- account), places the hold and inserts the job, or answers what the key already produced.
--   p_via: 'key' (p_credential = SHA-256 hex of an API key), 'session' (a better-auth session token)
--   or 'account' (an account id the caller already resolved).
-- status: created | replayed | rejected, reason when rejected: unauthorized, idempotency_key_reused,
-- insufficient_credits (nothing is stored: the same key works after a top-up), or a place_hold reason.
-- job: the job as the first request created it (replays answer the same body).
CREATE OR REPLACE FUNCTION create_job(
  p_via text, p_credential text, p_idempotency_key text, p_fingerprint text, p_type text, p_input jsonb,
  p_cost bigint, p_max_attempts integer, p_hold_ttl_seconds integer DEFAULT 86400,
  p_key_ttl_seconds integer DEFAULT 86400
)
RETURNS TABLE (
  status text, reason text, account_id uuid, response_status integer, job jsonb,
  balance bigint, held bigint, available bigint
)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
  v_account uuid;
  v_claimed boolean;
  v_key idempotency_keys;
  v_job_id uuid := gen_random_uuid();
  v_hold record;
  v_job jobs;
  v_body jsonb;
BEGIN
  IF p_via = 'key' THEN
    SELECT k.account_id INTO v_account FROM account_for_api_key(p_credential) k;
  ELSIF p_via = 'session' THEN
    v_account := account_for_session(p_credential);
  ELSIF p_via = 'account' AND p_credential ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' THEN
    SELECT a.id INTO v_account FROM accounts a WHERE a.id = p_credential::uuid;
  END IF;
  IF v_account IS NULL THEN
    status := 'rejected'; reason := 'unauthorized'; RETURN NEXT; RETURN;
  END IF;
  account_id := v_account;

  -- The unique key is the whole concurrency story: a second request with the key waits here for the
  -- first one's transaction, then finds its row (replay) or, if the first stored nothing, claims the
  -- key itself. An expired key is taken over as if new.
  INSERT INTO idempotency_keys AS k (account_id, key, fingerprint, created_at, expires_at)
  VALUES (v_account, p_idempotency_key, p_fingerprint, now(), now() + make_interval(secs => p_key_ttl_seconds))
  ON CONFLICT ON CONSTRAINT idempotency_keys_pkey DO UPDATE
  SET fingerprint = excluded.fingerprint, job_id = NULL, response_status = NULL, response_body = NULL,
    created_at = excluded.created_at, expires_at = excluded.expires_at
  WHERE k.expires_at <= now()
  RETURNING true INTO v_claimed;

  IF v_claimed IS NULL THEN
    SELECT * INTO v_key FROM idempotency_keys k WHERE k.account_id = v_account AND k.key = p_idempotency_key;
    IF v_key.fingerprint <> p_fingerprint THEN
      status := 'rejected'; reason := 'idempotency_key_reused';
    ELSE
      status := 'replayed'; response_status := v_key.response_status; job := v_key.response_body;
    END IF;
    RETURN NEXT;
    RETURN;
  END IF;

  SELECT * INTO v_hold FROM place_hold(v_account, p_cost, 'job:' || v_job_id::text, p_hold_ttl_seconds,
    jsonb_build_object('job_id', v_job_id, 'type', p_type));
  balance := v_hold.balance; held := v_hold.held; available := v_hold.available;
  IF v_hold.status <> 'applied' THEN
    -- Store nothing: the key is free again for the same request once the account can pay.
    DELETE FROM idempotency_keys k WHERE k.account_id = v_account AND k.key = p_idempotency_key;
    status := 'rejected'; reason := v_hold.reason; RETURN NEXT; RETURN;
  END IF;

  INSERT INTO jobs AS j (id, account_id, type, input, status, hold_id, cost, max_attempts)
  VALUES (v_job_id, v_account, p_type, p_input, 'queued', v_hold.hold_id, p_cost, p_max_attempts)
  RETURNING j.* INTO v_job;
  v_body := to_jsonb(v_job);
  UPDATE idempotency_keys k SET job_id = v_job_id, response_status = 201, response_body = v_body
  WHERE k.account_id = v_account AND k.key = p_idempotency_key;
  job := v_body;
  status := 'created';
  response_status := 201;
  RETURN NEXT;
END
$$;

-- Claims a batch for the queue consumer: queued → running, attempt + 1, lease until now + p_lease.
-- One row per distinct id: outcome claimed (run it), skipped (running, finished or canceled: a
-- duplicate delivery), expired (its hold's TTL passed) or not_found. attempt is the fencing token
-- complete_jobs needs.
CREATE OR REPLACE FUNCTION claim_jobs(p_job_ids uuid[], p_lease_seconds integer)
RETURNS TABLE (
  job_id uuid, outcome text, status text, account_id uuid, type text, input jsonb, cost bigint,
  attempt integer, max_attempts integer, lease_until timestamptz
)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
  v_ids uuid[] := ARRAY(SELECT DISTINCT x FROM unnest(p_job_ids) x WHERE x IS NOT NULL);
  v_claimed uuid[];
  v_expired uuid[];
BEGIN
  -- Lock in id order: two batches naming the same jobs (duplicate deliveries) queue, never deadlock.
  PERFORM 1 FROM jobs j WHERE j.id = ANY (v_ids) ORDER BY j.id FOR UPDATE;
  -- A queued job whose hold was voided by its TTL can no longer be paid for.
  WITH gone AS (
    UPDATE jobs j SET status = 'expired', finished_at = now(), updated_at = now(),
      last_error = coalesce(j.last_error, 'the hold expired before the job ran')
    FROM transfers t
    WHERE j.id = ANY (v_ids) AND j.status = 'queued' AND t.id = j.hold_id AND t.status <> 'pending'
    RETURNING j.id
  )
  SELECT array_agg(gone.id) INTO v_expired FROM gone;

  WITH claimed AS (
    UPDATE jobs j
    SET status = 'running', attempts = j.attempts + 1, lease_until = now() + make_interval(secs => p_lease_seconds),
      started_at = coalesce(j.started_at, now()), updated_at = now()
    WHERE j.id = ANY (v_ids) AND j.status = 'queued'
    RETURNING j.id
  )
  SELECT array_agg(claimed.id) INTO v_claimed FROM claimed;

  RETURN QUERY
  SELECT i.id,
    CASE WHEN i.id = ANY (coalesce(v_claimed, '{}')) THEN 'claimed'
      WHEN i.id = ANY (coalesce(v_expired, '{}')) THEN 'expired'
      WHEN j.id IS NULL THEN 'not_found'
      ELSE 'skipped' END,
    j.status, j.account_id, j.type,
    CASE WHEN i.id = ANY (coalesce(v_claimed, '{}')) THEN j.input END,
    j.cost, j.attempts, j.max_attempts, j.lease_until
  FROM unnest(v_ids) AS i (id) LEFT JOIN jobs j ON j.id = i.id
  ORDER BY i.id;
END
$$;

-- The legacy poller's claim (no Queues): up to p_limit queued jobs that are due, oldest first.
-- SKIP LOCKED: concurrent pollers, and the queue consumer's claim_jobs, never claim one job twice.
CREATE OR REPLACE FUNCTION claim_next_jobs(p_limit integer, p_lease_seconds integer)
RETURNS TABLE (
  job_id uuid, outcome text, status text, account_id uuid, type text, input jsonb, cost bigint,
  attempt integer, max_attempts integer, lease_until timestamptz
)
LANGUAGE sql AS $$
  WITH due AS (
    SELECT d.id FROM jobs d
    WHERE d.status = 'queued' AND d.run_after <= now()
      AND EXISTS (SELECT 1 FROM transfers t WHERE t.id = d.hold_id AND t.status = 'pending')
    ORDER BY d.run_after, d.id
    LIMIT greatest(p_limit, 0)
    FOR UPDATE SKIP LOCKED
  )
  UPDATE jobs j
  SET status = 'running', attempts = j.attempts + 1, lease_until = now() + make_interval(secs => p_lease_seconds),
    started_at = coalesce(j.started_at, now()), updated_at = now()
  FROM due
  WHERE j.id = due.id AND j.status = 'queued'
  RETURNING j.id, 'claimed'::text, j.status, j.account_id, j.type, j.input, j.cost, j.attempts, j.max_attempts,
    j.lease_until
$$;

-- Completes a batch of attempts in one statement. p_results: [{job_id, attempt, outcome, output, cost,
-- error, retry_in_seconds}] with outcome succeeded | retry | failed.
--   succeeded: capture min(cost, hold) (null: the whole hold), the rest is released.
--   retry:     back to queued, next attempt after retry_in_seconds; once the attempts are used up the
--              job is dead_lettered instead and its hold released.
--   failed:    a permanent failure: failed, hold released.
-- Only the attempt holding the lease may complete (status running and the same attempt number);
-- anything else answers stale and changes nothing, so a duplicate or late completion is a no-op.
-- One row per result: outcome succeeded | retry | failed | dead_lettered | expired | stale.
CREATE OR REPLACE FUNCTION complete_jobs(p_results jsonb)
RETURNS TABLE (job_id uuid, outcome text, status text, charged bigint, retry_in_seconds integer)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
  v_holds bigint[];
  v_job jobs;
  v_result record;
  v_capture record;
  v_final text;
BEGIN
  SELECT array_agg(x.hold_id) INTO v_holds FROM (
    SELECT j.id, j.hold_id FROM jobs j
    WHERE j.id IN (SELECT r.job_id FROM jsonb_to_recordset(p_results) AS r (job_id uuid))
    ORDER BY j.id FOR UPDATE
  ) x;
  PERFORM jobs_lock_holds(v_holds);

  FOR v_result IN
    SELECT * FROM jsonb_to_recordset(p_results) AS r (
      job_id uuid, attempt integer, outcome text, output jsonb, cost bigint, error text, retry_in_seconds integer
    )
  LOOP
    -- Under the lock taken above; a job named twice is no longer running the second time.
    SELECT * INTO v_job FROM jobs j
    WHERE j.id = v_result.job_id AND j.status = 'running' AND j.attempts = v_result.attempt;
    IF NOT FOUND THEN
      RETURN QUERY SELECT v_result.job_id, 'stale'::text, j.status, j.charged, NULL::integer
        FROM (SELECT v_result.job_id AS id) x LEFT JOIN jobs j ON j.id = x.id;
      CONTINUE;
    END IF;

    IF v_result.outcome = 'succeeded' THEN
      SELECT * INTO v_capture FROM capture_hold(v_job.hold_id,
        least(greatest(coalesce(v_result.cost, v_job.cost), 1), v_job.cost),
        jsonb_build_object('job_id', v_job.id, 'attempt', v_job.attempts));
      IF v_capture.status IN ('applied', 'already_applied') THEN
        UPDATE jobs j SET status = 'succeeded', output = v_result.output, charged = v_capture.captured,
          lease_until = NULL, finished_at = now(), updated_at = now()
        WHERE j.id = v_job.id;
        RETURN QUERY SELECT v_job.id, 'succeeded'::text, 'succeeded'::text, v_capture.captured, NULL::integer;
      ELSE
        -- The hold's TTL passed while the job ran: it can no longer be paid for, so it expires.
        UPDATE jobs j SET status = 'expired', lease_until = NULL, finished_at = now(), updated_at = now(),
          last_error = 'the hold expired before the job finished'
        WHERE j.id = v_job.id;
        RETURN QUERY SELECT v_job.id, 'expired'::text, 'expired'::text, NULL::bigint, NULL::integer;
      END IF;
    ELSIF v_result.outcome = 'retry' AND v_job.attempts < v_job.max_attempts THEN
      UPDATE jobs j SET status = 'queued', lease_until = NULL, last_error = v_result.error,
        run_after = now() + make_interval(secs => greatest(coalesce(v_result.retry_in_seconds, 0), 0)),
        updated_at = now()
      WHERE j.id = v_job.id;
      RETURN QUERY SELECT v_job.id, 'retry'::text, 'queued'::text, NULL::bigint, v_result.retry_in_seconds;
    ELSE
      v_final := CASE WHEN v_result.outcome = 'failed' THEN 'failed' ELSE 'dead_lettered' END;
      UPDATE jobs j SET last_error = v_result.error WHERE j.id = v_job.id;
      RETURN QUERY SELECT r.job_id, v_final, r.status, NULL::bigint, NULL::integer
        FROM jobs_release(ARRAY[v_job.id], v_final, ARRAY['running']) r;
    END IF;
  END LOOP;
END
$$;

-- The dead-letter queue's consumer: every job that is still queued or running is dead_lettered and
-- its hold released, once. One row per distinct id: outcome dead_lettered, skipped (already
-- finished) or not_found.
CREATE OR REPLACE FUNCTION dead_letter_jobs(p_job_ids uuid[], p_error text)
RETURNS TABLE (job_id uuid, outcome text, status text)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
  v_ids uuid[] := ARRAY(SELECT DISTINCT x FROM unnest(p_job_ids) x WHERE x IS NOT NULL);
  v_done uuid[];
BEGIN
  SELECT array_agg(r.job_id) INTO v_done FROM jobs_release(v_ids, 'dead_lettered', ARRAY['queued', 'running'], p_error) r;
  RETURN QUERY
  SELECT i.id,
    CASE WHEN i.id = ANY (coalesce(v_done, '{}')) THEN 'dead_lettered' WHEN j.id IS NULL THEN 'not_found'
      ELSE 'skipped' END,
    j.status
  FROM unnest(v_ids) AS i (id) LEFT JOIN jobs j ON j.id = i.id
  ORDER BY i.id;
END
$$;

-- POST /api/jobs/:id/cancel: a queued job of the account becomes canceled and its hold is released.
-- outcome: canceled | already_canceled | conflict (running or finished) | not_found (also for another
-- account's job). job: the job after the call.
CREATE OR REPLACE FUNCTION cancel_job(p_account_id uuid, p_job_id uuid)
RETURNS TABLE (outcome text, job jsonb)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
  v_job jobs;
  v_canceled boolean;
BEGIN
  PERFORM 1 FROM jobs j WHERE j.id = p_job_id AND j.account_id = p_account_id;
  IF NOT FOUND THEN
    outcome := 'not_found'; RETURN NEXT; RETURN;
  END IF;
  SELECT true INTO v_canceled FROM jobs_release(ARRAY[p_job_id], 'canceled', ARRAY['queued']);
  SELECT * INTO v_job FROM jobs j WHERE j.id = p_job_id;
  outcome := CASE WHEN v_canceled THEN 'canceled' WHEN v_job.status = 'canceled' THEN 'already_canceled'
    ELSE 'conflict' END;
  job := to_jsonb(v_job);
  RETURN NEXT;
END
$$;

-- The every-minute sweeper, in one statement. One row per thing it did:
--   expired        a job's hold passed its TTL (expire_holds), or was found voided: job → expired
--   requeued       a running job's lease passed: back to queued, to be re-sent now
--   dead_lettered  ... and it had used its last attempt: hold released instead
--   resend         a job still queued p_resend_after_seconds after it was due: send its message again
--   key_pruned     an Idempotency-Key past its expiry was deleted (job_id: the job it produced)
-- Job rows are taken with SKIP LOCKED: the sweep never waits for a consumer or the API. A resent job
-- carries last_sent_at = now(), so the next sweep leaves it alone for another p_resend_after_seconds.
CREATE OR REPLACE FUNCTION sweep_jobs(p_resend_after_seconds integer, p_limit integer)
RETURNS TABLE (action text, job_id uuid)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
  v_stale timestamptz := now() - make_interval(secs => p_resend_after_seconds);
  v_exhausted uuid[];
BEGIN
  -- One sweep at a time: a second one running meanwhile finds this lock taken and does nothing, so
  -- two cron ticks (or an operator's manual run) can never do one thing twice.
  IF NOT pg_try_advisory_xact_lock(7302, hashtext('sweep_jobs')) THEN
    RETURN;
  END IF;
  -- Expired holds first; the step below then finds their jobs (and any hold voided elsewhere).
  PERFORM 1 FROM expire_holds(now(), p_limit);
  RETURN QUERY
  UPDATE jobs j SET status = 'expired', lease_until = NULL, finished_at = now(), updated_at = now(),
    last_error = coalesce(j.last_error, 'the hold expired before the job finished')
  WHERE j.id IN (
    SELECT d.id FROM jobs d JOIN transfers t ON t.id = d.hold_id
    WHERE d.status IN ('queued', 'running') AND t.status <> 'pending'
    ORDER BY d.id LIMIT greatest(p_limit, 0)
    FOR UPDATE OF d SKIP LOCKED
  )
  RETURNING 'expired'::text, j.id;

  SELECT array_agg(d.id) INTO v_exhausted FROM (
    SELECT d.id FROM jobs d
    WHERE d.status = 'running' AND d.lease_until < now() AND d.attempts >= d.max_attempts
    ORDER BY d.lease_until LIMIT greatest(p_limit, 0)
    FOR UPDATE SKIP LOCKED
  ) d;
  RETURN QUERY
  SELECT 'dead_lettered'::text, r.job_id
  FROM jobs_release(coalesce(v_exhausted, '{}'), 'dead_lettered', ARRAY['running'],
    'the lease of the last attempt expired') r;

  RETURN QUERY
  UPDATE jobs j SET status = 'queued', lease_until = NULL, run_after = now(), last_sent_at = now(),
    updated_at = now(), last_error = coalesce(j.last_error, 'the lease expired before the attempt finished')
  WHERE j.id IN (
    SELECT d.id FROM jobs d
    WHERE d.status = 'running' AND d.lease_until < now() AND d.attempts < d.max_attempts
    ORDER BY d.lease_until LIMIT greatest(p_limit, 0)
    FOR UPDATE SKIP LOCKED
  )
  RETURNING 'requeued'::text, j.id;

  RETURN QUERY
  UPDATE jobs j SET last_sent_at = now()
  WHERE j.id IN (
    SELECT d.id FROM jobs d
    WHERE d.status = 'queued' AND d.run_after <= v_stale AND (d.last_sent_at IS NULL OR d.last_sent_at <= v_stale)
    ORDER BY d.run_after LIMIT greatest(p_limit, 0)
    FOR UPDATE SKIP LOCKED
  ) AND j.status = 'queued'
  RETURNING 'resend'::text, j.id;

  RETURN QUERY
  DELETE FROM idempotency_keys k
  WHERE (k.account_id, k.key) IN (
    SELECT d.account_id, d.key FROM idempotency_keys d WHERE d.expires_at <= now()
    ORDER BY d.expires_at LIMIT greatest(p_limit, 0) * 10
    FOR UPDATE SKIP LOCKED
  )
  RETURNING 'key_pruned'::text, k.job_id;
END
$$;

-- I5: each job has exactly one hold, of its own account; succeeded ⇒ hold posted;
-- failed / dead_lettered / canceled / expired ⇒ hold voided. Replaces the ledger's placeholder.
CREATE OR REPLACE FUNCTION ledger_check_jobs() RETURNS TABLE (invariant text, ok boolean, detail text)
LANGUAGE sql STABLE AS $$
  WITH bad AS (
    SELECT j.id FROM jobs j
    LEFT JOIN transfers h ON h.id = j.hold_id
    LEFT JOIN accounts a ON a.id = j.account_id
    WHERE h.id IS NULL OR h.kind <> 'hold' OR h.debit_account_id <> a.ledger_account_id OR h.amount <> j.cost
      OR (j.status = 'succeeded' AND h.status <> 'posted')
      OR (j.status IN ('failed', 'dead_lettered', 'canceled', 'expired') AND h.status <> 'voided')
      OR (SELECT count(*) FROM jobs o WHERE o.hold_id = j.hold_id) <> 1
  )
  SELECT 'I5', count(*) = 0,
    CASE WHEN count(*) = 0 THEN 'each job has one hold, posted when it succeeded, voided when it did not'
      ELSE format('%s job(s) whose hold does not match their status: %s', count(*),
        (SELECT string_agg(b.id::text, ', ') FROM (SELECT id FROM bad ORDER BY id LIMIT 10) b)) END
  FROM bad
$$;
