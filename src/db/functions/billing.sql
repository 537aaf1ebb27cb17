-- Billing functions (src/billing, docs in README "Billing"). Stripe fulfilment is one call of
-- fulfil_checkout(): the event-id dedupe, the session-id dedupe and the credit in one statement, so a
-- failure anywhere stores nothing and Stripe's retry starts from scratch.
--
-- Applied by npm run db:migrate after the migrations in drizzle/ whenever this file, or one before
-- it (ledger, auth, jobs, billing, ops), changed; so every statement is re-runnable: CREATE OR
-- REPLACE. That cannot change a function's argument or return types: such a change (or removing a
-- function) adds `DROP FUNCTION IF EXISTS name(old argument types);` before the new definition.
-- Then npm run db:generate refreshes checksums.json. Rules: docs/OPERATIONS.md, "Migrations".

-- Fulfils (or records) one Stripe event about one Checkout Session, at most once per event id:
--   p_action  credit  top the account up by p_credits, once per session (transfer ref checkout:<session>)
--             await   checkout completed, payment still pending (async payment methods)
--             fail    the async payment failed
--             ignore  not a Tollgate checkout
--             reject  the Worker found the session's data inconsistent with what Tollgate sold (p_reason)
-- A replayed event id answers duplicate = true with what the first delivery did, and changes nothing.
-- p_account_id is text so a malformed id in tampered metadata is a rejection, not a cast error.
CREATE OR REPLACE FUNCTION fulfil_checkout(
  p_event_id text, p_event_type text, p_source text, p_action text, p_reason text,
  p_session_id text, p_account_id text, p_pack_id text, p_credits bigint, p_amount bigint, p_currency text
)
RETURNS TABLE (
  status text, reason text, duplicate boolean, transfer_id bigint, account_id uuid, credits bigint
)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
  v_existing stripe_events;
  v_recorded checkout_sessions;
  v_has_record boolean;
  v_credit record;
  v_account uuid;
  v_status text;
  v_reason text;
  v_transfer bigint;
BEGIN
  IF p_account_id ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' THEN
    v_account := p_account_id::uuid;
  END IF;
  -- Deliveries of one event queue here (Stripe retries overlap, and may run concurrently), so the
  -- check below sees a first delivery's commit; the primary key is the backstop.
  PERFORM pg_advisory_xact_lock(7302, hashtext('stripe_event:' || p_event_id));
  SELECT * INTO v_existing FROM stripe_events e WHERE e.event_id = p_event_id;
  IF FOUND THEN
    status := v_existing.status;
    reason := v_existing.reason;
    duplicate := true;
    transfer_id := v_existing.transfer_id;
    account_id := v_existing.account_id;
    credits := v_existing.credits;
    RETURN NEXT;
    RETURN;
  END IF;

  CASE p_action
    WHEN 'credit' THEN
      SELECT * INTO v_recorded FROM checkout_sessions cs WHERE cs.id = p_session_id;
      v_has_record := FOUND;
      IF v_account IS NULL THEN
        v_status := 'rejected'; v_reason := 'account_invalid';
      ELSIF p_session_id IS NULL OR p_session_id = '' THEN
        v_status := 'rejected'; v_reason := 'session_missing';
      ELSIF v_has_record AND (v_recorded.account_id <> v_account
          OR v_recorded.pack_id IS DISTINCT FROM p_pack_id OR v_recorded.credits IS DISTINCT FROM p_credits
          OR v_recorded.amount IS DISTINCT FROM p_amount OR v_recorded.currency IS DISTINCT FROM p_currency) THEN
        -- What Stripe reports differs from what this server recorded when it created the session.
        v_status := 'rejected'; v_reason := 'session_mismatch';
      ELSE
        -- top_up is idempotent on the ref: a second event for the same session (completed, then
        -- async_payment_succeeded; or a webhook racing reconciliation) finds the first credit.
        SELECT * INTO v_credit FROM top_up(v_account, p_credits, 'checkout:' || p_session_id,
          jsonb_build_object('session_id', p_session_id, 'event_id', p_event_id, 'event_type', p_event_type,
            'source', p_source, 'pack_id', p_pack_id, 'amount', p_amount, 'currency', p_currency));
        IF v_credit.status = 'applied' THEN
          v_status := 'credited'; v_transfer := v_credit.transfer_id;
        ELSIF v_credit.status = 'already_applied' THEN
          v_status := 'already_credited';
        ELSE
          v_status := 'rejected'; v_reason := coalesce(v_credit.reason, 'credit_refused');
        END IF;
      END IF;
    WHEN 'await' THEN v_status := 'awaiting_payment';
    WHEN 'fail' THEN v_status := 'payment_failed';
    WHEN 'ignore' THEN v_status := 'ignored';
    ELSE v_status := 'rejected'; v_reason := coalesce(p_reason, 'rejected');
  END CASE;
  v_reason := coalesce(v_reason, p_reason);

  INSERT INTO stripe_events (event_id, type, source, session_id, account_id, pack_id, credits, status, reason,
    transfer_id)
  VALUES (p_event_id, p_event_type, p_source, p_session_id, v_account, p_pack_id, p_credits, v_status, v_reason,
    v_transfer);
  status := v_status;
  reason := v_reason;
  duplicate := false;
  transfer_id := v_transfer;
  account_id := v_account;
  credits := p_credits;
  RETURN NEXT;
END
$$;

-- The two billing numbers ops watch (docs/ARCHITECTURE.md, operations): webhook failures in the
-- last hour (deliveries the database failed, plus events fulfilment rejected) and reconciliation
-- repairs in the last 24 hours.
CREATE OR REPLACE FUNCTION billing_counters(p_now timestamptz DEFAULT now())
RETURNS TABLE (webhook_failures_1h bigint, reconcile_repairs_24h bigint)
LANGUAGE sql STABLE AS $$
  SELECT
    (SELECT count(*) FROM webhook_failures f WHERE f.created_at > p_now - interval '1 hour')
      + (SELECT count(*) FROM stripe_events e
         WHERE e.status = 'rejected' AND e.received_at > p_now - interval '1 hour'),
    (SELECT count(*) FROM stripe_events e
     WHERE e.status = 'credited' AND e.source = 'reconcile' AND e.received_at > p_now - interval '24 hours')
$$;

-- I4 (docs/ARCHITECTURE.md, the ledger model): each Checkout Session credits at most once; each
-- Stripe event id is processed at most once. Replaces the ledger's placeholder; ledger_check() picks
-- it up.
CREATE OR REPLACE FUNCTION ledger_check_billing() RETURNS TABLE (invariant text, ok boolean, detail text)
LANGUAGE sql STABLE AS $$
  WITH credited AS (
    SELECT e.event_id, e.session_id, e.credits, e.transfer_id FROM stripe_events e WHERE e.status = 'credited'
  ), checkout_top_ups AS (
    SELECT t.id, t.ref, t.amount, t.credit_account_id, t.metadata FROM transfers t
    WHERE t.kind = 'top_up' AND t.ref LIKE 'checkout:%'
  ), bad_sessions AS (
    -- a session credited by more than one event
    SELECT c.session_id AS id FROM credited c GROUP BY c.session_id HAVING count(*) > 1
    UNION
    -- a Checkout top-up that no credited event (or more than one) accounts for
    SELECT substr(u.ref, 10) FROM checkout_top_ups u
    LEFT JOIN credited c ON c.transfer_id = u.id AND 'checkout:' || c.session_id = u.ref
    GROUP BY u.id, u.ref HAVING count(c.event_id) <> 1
    UNION
    -- a credited event whose transfer is not its session's top-up of its credits
    SELECT c.session_id FROM credited c LEFT JOIN checkout_top_ups u ON u.id = c.transfer_id
    WHERE u.id IS NULL OR u.ref <> 'checkout:' || c.session_id OR u.amount <> c.credits
    UNION
    -- a credit other than what the server recorded when it created the session
    SELECT cs.id FROM checkout_sessions cs
    JOIN checkout_top_ups u ON u.ref = 'checkout:' || cs.id
    JOIN accounts a ON a.id = cs.account_id
    WHERE u.amount <> cs.credits OR u.credit_account_id <> a.ledger_account_id
  ), bad_events AS (
    -- an event id stored twice (the primary key forbids it; this notices the key going missing)
    SELECT e.event_id AS id FROM stripe_events e GROUP BY e.event_id HAVING count(*) > 1
    UNION
    -- a credit that does not name the one event that made it
    SELECT c.event_id FROM credited c JOIN checkout_top_ups u ON u.id = c.transfer_id
    WHERE u.metadata ->> 'event_id' IS DISTINCT FROM c.event_id
  )
  SELECT 'I4.session_once', count(*) = 0,
    CASE WHEN count(*) = 0 THEN 'each Checkout Session credited at most once, by one recorded event'
      ELSE format('%s Checkout Session(s) credited wrongly or more than once: %s', count(*),
        (SELECT string_agg(b.id, ', ') FROM (SELECT id FROM bad_sessions ORDER BY id LIMIT 10) b)) END
  FROM bad_sessions
  UNION ALL
  SELECT 'I4.event_once', count(*) = 0,
    CASE WHEN count(*) = 0 THEN 'each Stripe event id processed at most once'
      ELSE format('%s Stripe event id(s) processed more than once or unaccounted for: %s', count(*),
        (SELECT string_agg(b.id, ', ') FROM (SELECT id FROM bad_events ORDER BY id LIMIT 10) b)) END
  FROM bad_events
$$;
