-- Ledger functions (docs/LEDGER.md). Every state change of the ledger is one call of one of these
-- functions: one statement, one round trip from a Worker, all checks made under the row locks.
-- Every function answers with a row (status applied | already_applied | rejected, and a reason when
-- rejected) instead of raising, so callers never parse SQL errors and never leak them.
-- ledger_shard_count() is not here: it describes the seeded system accounts, so it lives with them
-- in drizzle/0001_system_accounts.sql (migrations run before this file).
--
-- Applied by npm run db:migrate after the migrations in drizzle/ whenever this file, or one before
-- it (ledger, auth, jobs, billing, ops), changed; so every statement is re-runnable: CREATE OR
-- REPLACE. That cannot change a function's argument or return types: such a change (or removing a
-- function) adds `DROP FUNCTION IF EXISTS name(old argument types);` before the new definition.
-- Then npm run db:generate refreshes checksums.json. Rules: docs/OPERATIONS.md, "Migrations".

-- The shard of a system kind that serves one user ledger account. Always the same shard for the same
-- user: one user's operations serialize on the user's own row anyway.
CREATE OR REPLACE FUNCTION ledger_system_account(p_kind text, p_user_ledger_account_id bigint) RETURNS bigint
LANGUAGE sql STABLE AS $$
  SELECT la.id FROM ledger_accounts la
  WHERE la.kind = p_kind AND la.kind <> 'user' AND la.shard = p_user_ledger_account_id % ledger_shard_count()
$$;

-- Locks ledger accounts in one global order (ascending id), whatever order the caller names them in:
-- two transactions touching the same accounts queue instead of deadlocking. NO KEY UPDATE is the lock
-- an UPDATE of the totals takes anyway; unlike FOR UPDATE it does not conflict with the KEY SHARE lock
-- that inserting a transfer takes on the accounts it references.
CREATE OR REPLACE FUNCTION ledger_lock_accounts(p_ids bigint[]) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM 1 FROM ledger_accounts la WHERE la.id = ANY (p_ids) ORDER BY la.id FOR NO KEY UPDATE;
END
$$;

-- balance = credits_posted − debits_posted; held = debits_pending; available = balance − held.
CREATE OR REPLACE FUNCTION ledger_balances(p_ledger_account_id bigint)
RETURNS TABLE (balance bigint, held bigint, available bigint)
LANGUAGE sql STABLE AS $$
  SELECT la.credits_posted - la.debits_posted, la.debits_pending,
    la.credits_posted - la.debits_posted - la.debits_pending
  FROM ledger_accounts la WHERE la.id = p_ledger_account_id
$$;

-- Creates a customer account and its user ledger account. Idempotent on p_user_id (null: always a new
-- account). Both rows go in one statement because each references the other.
CREATE OR REPLACE FUNCTION create_account(p_user_id text DEFAULT NULL)
RETURNS TABLE (status text, reason text, account_id uuid, ledger_account_id bigint)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
  v_id uuid := gen_random_uuid();
BEGIN
  IF p_user_id IS NOT NULL THEN
    -- Concurrent sign-ups of one user queue here, so the second sees the first and replays.
    PERFORM pg_advisory_xact_lock(7301, hashtext('account:' || p_user_id));
    SELECT a.id, a.ledger_account_id INTO account_id, ledger_account_id FROM accounts a WHERE a.user_id = p_user_id;
    IF FOUND THEN
      status := 'already_applied';
      RETURN NEXT;
      RETURN;
    END IF;
  END IF;
  WITH created AS (
    INSERT INTO ledger_accounts AS la (kind, account_id) VALUES ('user', v_id) RETURNING la.id
  )
  INSERT INTO accounts AS a (id, user_id, ledger_account_id)
  SELECT v_id, p_user_id, created.id FROM created
  RETURNING a.id, a.ledger_account_id INTO account_id, ledger_account_id;
  status := 'applied';
  RETURN NEXT;
END
$$;

-- Shared body of top_up and grant_credits: a posted transfer from a system shard to a user, at most
-- once per (kind, ref). A replay answers already_applied with the first transfer; the same ref for
-- another account or amount (or, with p_match_metadata, other metadata) is rejected ref_conflict.
CREATE OR REPLACE FUNCTION ledger_credit(
  p_kind text, p_source_kind text, p_account_id uuid, p_amount bigint, p_ref text, p_metadata jsonb,
  p_match_metadata boolean
)
RETURNS TABLE (
  status text, reason text, transfer_id bigint, account_id uuid, amount bigint, created_at timestamptz,
  balance bigint, held bigint, available bigint
)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
  v_user bigint;
  v_source bigint;
  v_existing transfers;
BEGIN
  account_id := p_account_id;
  amount := p_amount;
  IF p_amount IS NULL OR p_amount NOT BETWEEN 1 AND 9007199254740991 THEN
    status := 'rejected'; reason := 'invalid_amount'; RETURN NEXT; RETURN;
  END IF;
  IF p_ref IS NULL OR p_ref = '' THEN
    status := 'rejected'; reason := 'ref_required'; RETURN NEXT; RETURN;
  END IF;
  -- Calls with the same (kind, ref) queue here, so the replay check below sees a concurrent first
  -- call's commit and a duplicate never reaches the unique index as an error.
  PERFORM pg_advisory_xact_lock(7301, hashtext(p_kind || ':' || p_ref));
  SELECT a.ledger_account_id INTO v_user FROM accounts a WHERE a.id = p_account_id;
  SELECT * INTO v_existing FROM transfers t WHERE t.kind = p_kind AND t.ref = p_ref;
  IF FOUND THEN
    IF v_existing.credit_account_id = v_user AND v_existing.amount = p_amount
      AND (NOT p_match_metadata OR v_existing.metadata = coalesce(p_metadata, '{}'::jsonb)) THEN
      status := 'already_applied';
      transfer_id := v_existing.id;
      created_at := v_existing.created_at;
      SELECT b.balance, b.held, b.available INTO balance, held, available FROM ledger_balances(v_user) b;
    ELSE
      status := 'rejected'; reason := 'ref_conflict';
    END IF;
    RETURN NEXT;
    RETURN;
  END IF;
  IF v_user IS NULL THEN
    status := 'rejected'; reason := 'account_not_found'; RETURN NEXT; RETURN;
  END IF;
  v_source := ledger_system_account(p_source_kind, v_user);
  PERFORM ledger_lock_accounts(ARRAY[v_source, v_user]);
  UPDATE ledger_accounts la SET debits_posted = la.debits_posted + p_amount WHERE la.id = v_source;
  UPDATE ledger_accounts la SET credits_posted = la.credits_posted + p_amount WHERE la.id = v_user
  RETURNING la.credits_posted - la.debits_posted, la.debits_pending,
    la.credits_posted - la.debits_posted - la.debits_pending
  INTO balance, held, available;
  INSERT INTO transfers AS t (debit_account_id, credit_account_id, amount, kind, status, ref, metadata)
  VALUES (v_source, v_user, p_amount, p_kind, 'posted', p_ref, coalesce(p_metadata, '{}'::jsonb))
  RETURNING t.id, t.created_at INTO transfer_id, created_at;
  status := 'applied';
  RETURN NEXT;
END
$$;

-- A paid Stripe top-up: stripe → user, posted, once per ref (e.g. the Checkout Session id).
CREATE OR REPLACE FUNCTION top_up(p_account_id uuid, p_amount bigint, p_ref text, p_metadata jsonb DEFAULT '{}')
RETURNS TABLE (
  status text, reason text, transfer_id bigint, account_id uuid, amount bigint, created_at timestamptz,
  balance bigint, held bigint, available bigint
)
LANGUAGE sql AS $$
  SELECT * FROM ledger_credit('top_up', 'stripe', p_account_id, p_amount, p_ref, p_metadata, false)
$$;

-- A promotional grant: promo → user, posted, once per ref. The metadata (the reason) is part of the
-- request, so a replay must carry the same metadata.
CREATE OR REPLACE FUNCTION grant_credits(p_account_id uuid, p_amount bigint, p_ref text, p_metadata jsonb DEFAULT '{}')
RETURNS TABLE (
  status text, reason text, transfer_id bigint, account_id uuid, amount bigint, created_at timestamptz,
  balance bigint, held bigint, available bigint
)
LANGUAGE sql AS $$
  SELECT * FROM ledger_credit('grant', 'promo', p_account_id, p_amount, p_ref, p_metadata, true)
$$;

-- A hold: pending user → revenue that counts against the balance at once. p_ref is optional; with one,
-- a replay answers already_applied with the first hold.
CREATE OR REPLACE FUNCTION place_hold(
  p_account_id uuid, p_amount bigint, p_ref text DEFAULT NULL, p_ttl_seconds integer DEFAULT 3600,
  p_metadata jsonb DEFAULT '{}'
)
RETURNS TABLE (
  status text, reason text, hold_id bigint, account_id uuid, amount bigint, hold_status text,
  expires_at timestamptz, balance bigint, held bigint, available bigint
)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
  v_ref text := nullif(p_ref, '');
  v_user bigint;
  v_revenue bigint;
  v_existing transfers;
BEGIN
  account_id := p_account_id;
  amount := p_amount;
  IF p_amount IS NULL OR p_amount NOT BETWEEN 1 AND 9007199254740991 THEN
    status := 'rejected'; reason := 'invalid_amount'; RETURN NEXT; RETURN;
  END IF;
  IF p_ttl_seconds IS NULL OR p_ttl_seconds < 1 THEN
    status := 'rejected'; reason := 'invalid_ttl'; RETURN NEXT; RETURN;
  END IF;
  IF v_ref IS NOT NULL THEN
    PERFORM pg_advisory_xact_lock(7301, hashtext('hold:' || v_ref));
  END IF;
  SELECT a.ledger_account_id INTO v_user FROM accounts a WHERE a.id = p_account_id;
  IF v_ref IS NOT NULL THEN
    SELECT * INTO v_existing FROM transfers t WHERE t.kind = 'hold' AND t.ref = v_ref;
    IF FOUND THEN
      IF v_existing.debit_account_id = v_user AND v_existing.amount = p_amount THEN
        status := 'already_applied';
        hold_id := v_existing.id;
        hold_status := v_existing.status;
        expires_at := v_existing.expires_at;
        SELECT b.balance, b.held, b.available INTO balance, held, available FROM ledger_balances(v_user) b;
      ELSE
        status := 'rejected'; reason := 'ref_conflict';
      END IF;
      RETURN NEXT;
      RETURN;
    END IF;
  END IF;
  IF v_user IS NULL THEN
    status := 'rejected'; reason := 'account_not_found'; RETURN NEXT; RETURN;
  END IF;
  v_revenue := ledger_system_account('revenue', v_user);
  PERFORM ledger_lock_accounts(ARRAY[v_revenue, v_user]);
  -- The guard is evaluated under the row lock, so concurrent holds each see the ones before them and
  -- an insufficient balance is an answer, never a CHECK violation.
  UPDATE ledger_accounts la SET debits_pending = la.debits_pending + p_amount
  WHERE la.id = v_user AND la.debits_pending + la.debits_posted + p_amount <= la.credits_posted
  RETURNING la.credits_posted - la.debits_posted, la.debits_pending,
    la.credits_posted - la.debits_posted - la.debits_pending
  INTO balance, held, available;
  IF NOT FOUND THEN
    status := 'rejected';
    reason := 'insufficient_credits';
    SELECT b.balance, b.held, b.available INTO balance, held, available FROM ledger_balances(v_user) b;
    RETURN NEXT;
    RETURN;
  END IF;
  UPDATE ledger_accounts la SET credits_pending = la.credits_pending + p_amount WHERE la.id = v_revenue;
  INSERT INTO transfers AS t (debit_account_id, credit_account_id, amount, kind, status, ref, metadata, expires_at)
  VALUES (v_user, v_revenue, p_amount, 'hold', 'pending', v_ref, coalesce(p_metadata, '{}'::jsonb),
    now() + make_interval(secs => p_ttl_seconds))
  RETURNING t.id, t.status, t.expires_at INTO hold_id, hold_status, expires_at;
  status := 'applied';
  RETURN NEXT;
END
$$;

-- What a resolution call answers when the hold was not pending for it: the hold's actual outcome.
-- Same outcome as asked (capture/capture, release|expire/release) → already_applied; other → rejected.
CREATE OR REPLACE FUNCTION ledger_hold_outcome(p_hold_id bigint, p_resolution text)
RETURNS TABLE (
  status text, reason text, hold_id bigint, account_id uuid, hold_status text, resolution text,
  resolution_id bigint, amount bigint, captured bigint, released bigint
)
LANGUAGE plpgsql STABLE AS $$
#variable_conflict use_column
DECLARE
  v_hold transfers;
  v_resolution transfers;
BEGIN
  hold_id := p_hold_id;
  SELECT * INTO v_hold FROM transfers t WHERE t.id = p_hold_id AND t.kind = 'hold';
  IF NOT FOUND THEN
    status := 'rejected'; reason := 'hold_not_found'; RETURN NEXT; RETURN;
  END IF;
  SELECT a.id INTO account_id FROM accounts a WHERE a.ledger_account_id = v_hold.debit_account_id;
  hold_status := v_hold.status;
  amount := v_hold.amount;
  IF v_hold.status = 'pending' THEN
    -- Still pending, so the guarded update refused the amount.
    status := 'rejected'; reason := 'amount_exceeds_hold'; RETURN NEXT; RETURN;
  END IF;
  SELECT * INTO v_resolution FROM transfers t WHERE t.pending_id = p_hold_id;
  resolution := v_resolution.kind;
  resolution_id := v_resolution.id;
  captured := CASE WHEN v_resolution.kind = 'capture' THEN v_resolution.amount ELSE 0 END;
  released := v_hold.amount - captured;
  IF (p_resolution = 'capture') = (v_resolution.kind = 'capture') THEN
    status := 'already_applied';
  ELSE
    status := 'rejected'; reason := 'already_resolved';
  END IF;
  RETURN NEXT;
END
$$;

-- Capture: post p_amount (null: the whole hold; at most the hold) to revenue and release the rest.
CREATE OR REPLACE FUNCTION capture_hold(p_hold_id bigint, p_amount bigint DEFAULT NULL, p_metadata jsonb DEFAULT '{}')
RETURNS TABLE (
  status text, reason text, hold_id bigint, account_id uuid, hold_status text, resolution text,
  resolution_id bigint, amount bigint, captured bigint, released bigint
)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
  v_hold transfers;
BEGIN
  hold_id := p_hold_id;
  IF p_amount IS NOT NULL AND p_amount < 1 THEN
    status := 'rejected'; reason := 'invalid_amount'; RETURN NEXT; RETURN;
  END IF;
  -- The hold resolves here or not at all: of two racing resolutions the second waits for this row,
  -- finds it no longer pending, and reports the first one's outcome.
  UPDATE transfers t SET status = 'posted'
  WHERE t.id = p_hold_id AND t.kind = 'hold' AND t.status = 'pending' AND t.amount >= coalesce(p_amount, t.amount)
  RETURNING t.* INTO v_hold;
  IF NOT FOUND THEN
    RETURN QUERY SELECT * FROM ledger_hold_outcome(p_hold_id, 'capture');
    RETURN;
  END IF;
  captured := coalesce(p_amount, v_hold.amount);
  PERFORM ledger_lock_accounts(ARRAY[v_hold.debit_account_id, v_hold.credit_account_id]);
  UPDATE ledger_accounts la
  SET debits_pending = la.debits_pending - v_hold.amount, debits_posted = la.debits_posted + captured
  WHERE la.id = v_hold.debit_account_id;
  UPDATE ledger_accounts la
  SET credits_pending = la.credits_pending - v_hold.amount, credits_posted = la.credits_posted + captured
  WHERE la.id = v_hold.credit_account_id;
  INSERT INTO transfers AS t (debit_account_id, credit_account_id, amount, kind, status, pending_id, metadata)
  VALUES (v_hold.debit_account_id, v_hold.credit_account_id, captured, 'capture', 'posted', p_hold_id,
    coalesce(p_metadata, '{}'::jsonb))
  RETURNING t.id INTO resolution_id;
  SELECT a.id INTO account_id FROM accounts a WHERE a.ledger_account_id = v_hold.debit_account_id;
  status := 'applied';
  hold_status := 'posted';
  resolution := 'capture';
  amount := v_hold.amount;
  released := v_hold.amount - captured;
  RETURN NEXT;
END
$$;

-- Release: void the hold; the whole amount is available again.
CREATE OR REPLACE FUNCTION release_hold(p_hold_id bigint, p_metadata jsonb DEFAULT '{}')
RETURNS TABLE (
  status text, reason text, hold_id bigint, account_id uuid, hold_status text, resolution text,
  resolution_id bigint, amount bigint, captured bigint, released bigint
)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
  v_hold transfers;
BEGIN
  hold_id := p_hold_id;
  UPDATE transfers t SET status = 'voided'
  WHERE t.id = p_hold_id AND t.kind = 'hold' AND t.status = 'pending'
  RETURNING t.* INTO v_hold;
  IF NOT FOUND THEN
    RETURN QUERY SELECT * FROM ledger_hold_outcome(p_hold_id, 'release');
    RETURN;
  END IF;
  PERFORM ledger_lock_accounts(ARRAY[v_hold.debit_account_id, v_hold.credit_account_id]);
  UPDATE ledger_accounts la SET debits_pending = la.debits_pending - v_hold.amount
  WHERE la.id = v_hold.debit_account_id;
  UPDATE ledger_accounts la SET credits_pending = la.credits_pending - v_hold.amount
  WHERE la.id = v_hold.credit_account_id;
  INSERT INTO transfers AS t (debit_account_id, credit_account_id, amount, kind, status, pending_id, metadata)
  VALUES (v_hold.debit_account_id, v_hold.credit_account_id, v_hold.amount, 'release', 'voided', p_hold_id,
    coalesce(p_metadata, '{}'::jsonb))
  RETURNING t.id INTO resolution_id;
  SELECT a.id INTO account_id FROM accounts a WHERE a.ledger_account_id = v_hold.debit_account_id;
  status := 'applied';
  hold_status := 'voided';
  resolution := 'release';
  amount := v_hold.amount;
  captured := 0;
  released := v_hold.amount;
  RETURN NEXT;
END
$$;

-- Voids up to p_limit holds whose TTL passed by p_now, one row per hold voided (none: nothing due).
-- Holds being resolved right now are skipped, not waited for; the next sweep finds them if still due.
CREATE OR REPLACE FUNCTION expire_holds(p_now timestamptz DEFAULT now(), p_limit integer DEFAULT 100)
RETURNS TABLE (status text, reason text, hold_id bigint, account_id uuid, amount bigint, expires_at timestamptz)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
  v_ids bigint[];
  v_debits bigint[];
  v_credits bigint[];
  v_amounts bigint[];
  v_expiries timestamptz[];
BEGIN
  WITH expired AS (
    UPDATE transfers t SET status = 'voided'
    WHERE t.id IN (
      SELECT d.id FROM transfers d
      WHERE d.status = 'pending' AND d.kind = 'hold' AND d.expires_at <= p_now
      ORDER BY d.expires_at, d.id
      LIMIT greatest(coalesce(p_limit, 100), 0)
      FOR NO KEY UPDATE SKIP LOCKED
    ) AND t.status = 'pending'
    RETURNING t.id, t.debit_account_id, t.credit_account_id, t.amount, t.expires_at
  )
  SELECT array_agg(e.id ORDER BY e.id), array_agg(e.debit_account_id ORDER BY e.id),
    array_agg(e.credit_account_id ORDER BY e.id), array_agg(e.amount ORDER BY e.id),
    array_agg(e.expires_at ORDER BY e.id)
  INTO v_ids, v_debits, v_credits, v_amounts, v_expiries
  FROM expired e;
  IF v_ids IS NULL THEN
    RETURN;
  END IF;
  -- One batch touches many accounts: lock them all, in the global order, before changing any.
  PERFORM ledger_lock_accounts(v_debits || v_credits);
  UPDATE ledger_accounts la SET debits_pending = la.debits_pending - x.total
  FROM (SELECT u.id, sum(u.amount)::bigint AS total FROM unnest(v_debits, v_amounts) AS u (id, amount) GROUP BY u.id) x
  WHERE la.id = x.id;
  UPDATE ledger_accounts la SET credits_pending = la.credits_pending - x.total
  FROM (SELECT u.id, sum(u.amount)::bigint AS total FROM unnest(v_credits, v_amounts) AS u (id, amount) GROUP BY u.id) x
  WHERE la.id = x.id;
  INSERT INTO transfers (debit_account_id, credit_account_id, amount, kind, status, pending_id, metadata)
  SELECT u.debit, u.credit, u.amount, 'expire', 'voided', u.hold, jsonb_build_object('expired_at', p_now)
  FROM unnest(v_ids, v_debits, v_credits, v_amounts) AS u (hold, debit, credit, amount);
  RETURN QUERY
  SELECT 'applied'::text, NULL::text, u.hold, a.id, u.amount, u.expiry
  FROM unnest(v_ids, v_debits, v_amounts, v_expiries) AS u (hold, debit, amount, expiry)
  JOIN accounts a ON a.ledger_account_id = u.debit
  ORDER BY u.hold;
END
$$;

-- Transfers are append-only for every role, the owner included: the one change allowed is a pending
-- hold becoming posted or voided, with every other column unchanged. A correction is a new transfer.
CREATE OR REPLACE FUNCTION transfers_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'TRUNCATE' THEN
    RAISE EXCEPTION 'transfers are append-only: TRUNCATE is not allowed' USING ERRCODE = 'restrict_violation';
  END IF;
  IF TG_OP = 'DELETE' THEN
    RAISE EXCEPTION 'transfers are append-only: transfer % (%) cannot be deleted', OLD.id, OLD.status
      USING ERRCODE = 'restrict_violation', HINT = 'Record a correction as a new transfer.';
  END IF;
  IF OLD.status <> 'pending' OR NEW.status NOT IN ('posted', 'voided')
    OR (to_jsonb(NEW) - 'status') IS DISTINCT FROM (to_jsonb(OLD) - 'status') THEN
    RAISE EXCEPTION 'transfers are append-only: transfer % (%) may only go from pending to posted or voided',
      OLD.id, OLD.status
      USING ERRCODE = 'restrict_violation', HINT = 'Record a correction as a new transfer.';
  END IF;
  RETURN NEW;
END
$$;

CREATE OR REPLACE TRIGGER transfers_append_only BEFORE UPDATE OR DELETE ON transfers
FOR EACH ROW EXECUTE FUNCTION transfers_append_only();

CREATE OR REPLACE TRIGGER transfers_no_truncate BEFORE TRUNCATE ON transfers
FOR EACH STATEMENT EXECUTE FUNCTION transfers_append_only();

-- The ledger's own invariants (docs/ARCHITECTURE.md, the ledger model), one row each. A failing row
-- names at most ten offenders.
CREATE OR REPLACE FUNCTION ledger_check_core() RETURNS TABLE (invariant text, ok boolean, detail text)
LANGUAGE plpgsql STABLE AS $$
#variable_conflict use_column
BEGIN
  -- I1: every transfer debits one account and credits another by the same amount.
  RETURN QUERY
  SELECT 'I1.posted', coalesce(sum(la.debits_posted), 0) = coalesce(sum(la.credits_posted), 0),
    format('sum debits_posted %s, sum credits_posted %s', coalesce(sum(la.debits_posted), 0),
      coalesce(sum(la.credits_posted), 0))
  FROM ledger_accounts la;
  RETURN QUERY
  SELECT 'I1.pending', coalesce(sum(la.debits_pending), 0) = coalesce(sum(la.credits_pending), 0),
    format('sum debits_pending %s, sum credits_pending %s', coalesce(sum(la.debits_pending), 0),
      coalesce(sum(la.credits_pending), 0))
  FROM ledger_accounts la;

  -- I2: no user account spends, or holds, more than it was credited.
  RETURN QUERY
  WITH bad AS (
    SELECT la.id FROM ledger_accounts la
    WHERE la.kind = 'user' AND la.debits_pending + la.debits_posted > la.credits_posted
    ORDER BY la.id
  )
  SELECT 'I2', count(*) = 0,
    CASE WHEN count(*) = 0 THEN 'no user account overdrawn'
      ELSE format('%s overdrawn user ledger account(s): %s', count(*), (SELECT string_agg(b.id::text, ', ') FROM (SELECT id FROM bad LIMIT 10) b)) END
  FROM bad;

  -- I3: the pending totals are exactly the open holds ...
  RETURN QUERY
  WITH open_holds AS (
    SELECT x.id, sum(x.debits) AS debits, sum(x.credits) AS credits FROM (
      SELECT t.debit_account_id AS id, t.amount AS debits, 0 AS credits FROM transfers t WHERE t.status = 'pending'
      UNION ALL
      SELECT t.credit_account_id, 0, t.amount FROM transfers t WHERE t.status = 'pending'
    ) x GROUP BY x.id
  ), bad AS (
    SELECT la.id FROM ledger_accounts la LEFT JOIN open_holds o ON o.id = la.id
    WHERE la.debits_pending <> coalesce(o.debits, 0) OR la.credits_pending <> coalesce(o.credits, 0)
  )
  SELECT 'I3.pending', count(*) = 0,
    CASE WHEN count(*) = 0 THEN 'pending totals equal the open holds'
      ELSE format('%s ledger account(s) whose pending totals differ from their open holds: %s', count(*),
        (SELECT string_agg(b.id::text, ', ') FROM (SELECT id FROM bad ORDER BY id LIMIT 10) b)) END
  FROM bad;

  -- ... and each hold is pending with no resolution, or resolved by exactly one that fits it.
  RETURN QUERY
  WITH holds AS (
    SELECT h.id, h.status, h.amount, count(r.id) AS resolutions, min(r.kind) AS resolution,
      min(r.amount) AS resolved_amount,
      bool_and(r.debit_account_id = h.debit_account_id AND r.credit_account_id = h.credit_account_id) AS same_accounts
    FROM transfers h LEFT JOIN transfers r ON r.pending_id = h.id
    WHERE h.kind = 'hold'
    GROUP BY h.id
  ), bad AS (
    SELECT hs.id FROM holds hs
    WHERE (hs.status = 'pending' AND hs.resolutions <> 0)
      OR (hs.status <> 'pending' AND hs.resolutions <> 1)
      OR (hs.status = 'posted' AND (hs.resolution <> 'capture' OR hs.resolved_amount > hs.amount))
      OR (hs.status = 'voided' AND (hs.resolution NOT IN ('release', 'expire') OR hs.resolved_amount <> hs.amount))
      OR NOT coalesce(hs.same_accounts, true)
    UNION ALL
    SELECT r.pending_id FROM transfers r JOIN transfers h ON h.id = r.pending_id WHERE h.kind <> 'hold'
  )
  SELECT 'I3.resolved_once', count(*) = 0,
    CASE WHEN count(*) = 0 THEN 'every hold pending, or resolved exactly once'
      ELSE format('%s hold(s) resolved wrongly or more than once: %s', count(*),
        (SELECT string_agg(b.id::text, ', ') FROM (SELECT id FROM bad ORDER BY id LIMIT 10) b)) END
  FROM bad;

  -- I4 (ledger part): each top-up reference credits at most once.
  RETURN QUERY
  WITH bad AS (
    SELECT coalesce(t.ref, '(no ref)') AS ref FROM transfers t
    WHERE t.kind = 'top_up' GROUP BY t.ref HAVING count(*) > 1 OR t.ref IS NULL
  )
  SELECT 'I4.top_up_once', count(*) = 0,
    CASE WHEN count(*) = 0 THEN 'each top-up ref credited at most once'
      ELSE format('%s top-up ref(s) credited more than once: %s', count(*),
        (SELECT string_agg(b.ref, ', ') FROM (SELECT ref FROM bad ORDER BY ref LIMIT 10) b)) END
  FROM bad;

  -- I6: the posted totals are the sums over posted transfers. A hold's own row never moves posted
  -- money: its capture transfer does.
  RETURN QUERY
  WITH moved AS (
    SELECT x.id, sum(x.debits) AS debits, sum(x.credits) AS credits FROM (
      SELECT t.debit_account_id AS id, t.amount AS debits, 0 AS credits FROM transfers t
      WHERE t.status = 'posted' AND t.kind <> 'hold'
      UNION ALL
      SELECT t.credit_account_id, 0, t.amount FROM transfers t WHERE t.status = 'posted' AND t.kind <> 'hold'
    ) x GROUP BY x.id
  ), bad AS (
    SELECT la.id FROM ledger_accounts la LEFT JOIN moved m ON m.id = la.id
    WHERE la.debits_posted <> coalesce(m.debits, 0) OR la.credits_posted <> coalesce(m.credits, 0)
  )
  SELECT 'I6', count(*) = 0,
    CASE WHEN count(*) = 0 THEN 'posted totals equal the sums over posted transfers'
      ELSE format('%s ledger account(s) whose posted totals differ from their transfers: %s', count(*),
        (SELECT string_agg(b.id::text, ', ') FROM (SELECT id FROM bad ORDER BY id LIMIT 10) b)) END
  FROM bad;
END
$$;

-- Extension points: billing (I4: Stripe sessions and events) and jobs (I5) replace these with
-- CREATE OR REPLACE in their own files (applied after this one, and again whenever this one
-- changes), keeping the signature; ledger_check() picks them up.
CREATE OR REPLACE FUNCTION ledger_check_billing() RETURNS TABLE (invariant text, ok boolean, detail text)
LANGUAGE sql STABLE AS $$ SELECT NULL::text, NULL::boolean, NULL::text WHERE false $$;

CREATE OR REPLACE FUNCTION ledger_check_jobs() RETURNS TABLE (invariant text, ok boolean, detail text)
LANGUAGE sql STABLE AS $$ SELECT NULL::text, NULL::boolean, NULL::text WHERE false $$;

-- Every invariant, one row each: (invariant, ok, detail). All ok ⇔ the ledger is consistent.
CREATE OR REPLACE FUNCTION ledger_check() RETURNS TABLE (invariant text, ok boolean, detail text)
LANGUAGE sql STABLE AS $$
  SELECT * FROM ledger_check_core()
  UNION ALL SELECT * FROM ledger_check_billing()
  UNION ALL SELECT * FROM ledger_check_jobs()
$$;
