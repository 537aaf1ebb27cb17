-- Authentication in the database (src/auth/authenticate.ts, docs in README "Security").
--
-- Applied by npm run db:migrate after the migrations in drizzle/ whenever this file, or one before
-- it (ledger, auth, jobs, billing, ops), changed; so every statement is re-runnable: CREATE OR
-- REPLACE. That cannot change a function's argument or return types: such a change (or removing a
-- function) adds `DROP FUNCTION IF EXISTS name(old argument types);` before the new definition.
-- Then npm run db:generate refreshes checksums.json. Rules: docs/OPERATIONS.md, "Migrations".
--
-- 1. Every user gets its Tollgate account and user ledger account inside the user's own INSERT: the
--    trigger runs in that statement's transaction, so there is never a user without an account, even
--    though better-auth writes over Neon HTTP without interactive transactions. create_account is
--    idempotent per user id, so a replayed insert of the same id cannot make a second account.
CREATE OR REPLACE FUNCTION auth_users_create_account() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM create_account(NEW.id);
  RETURN NULL;
END
$$;

CREATE OR REPLACE TRIGGER auth_users_create_account AFTER INSERT ON auth_users
FOR EACH ROW EXECUTE FUNCTION auth_users_create_account();

-- 2. Caller lookups, one indexed equality each. Plain SQL and STABLE, so the planner inlines them into
--    whatever statement calls them: job creation can resolve its caller in the same round trip, e.g.
--      WITH caller AS (SELECT account_id, key_id FROM account_for_api_key($1)) INSERT ... FROM caller
--    A revoked key is simply not found, so revocation takes effect on the next request.
CREATE OR REPLACE FUNCTION account_for_api_key(p_digest text)
RETURNS TABLE (account_id uuid, key_id uuid)
LANGUAGE sql STABLE AS $$
  SELECT k.account_id, k.id FROM api_keys k WHERE k.digest = p_digest AND k.revoked_at IS NULL
$$;

-- The session token is the unsigned part of better-auth's cookie; the signature is checked before
-- this runs. An expired session finds nothing.
CREATE OR REPLACE FUNCTION account_for_session(p_token text) RETURNS uuid
LANGUAGE sql STABLE AS $$
  SELECT a.id FROM auth_sessions s JOIN accounts a ON a.user_id = s.user_id
  WHERE s.token = p_token AND s.expires_at > now()
$$;
