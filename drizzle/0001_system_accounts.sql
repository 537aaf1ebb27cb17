-- The system ledger accounts: every system kind comes in ledger_shard_count() shards, one row each.
-- ledger_shard_count() lives here, not in src/db/functions/ledger.sql, because it describes these
-- rows: raising it is a new migration that redefines it and inserts the new shards in one go.
-- Migrations run before the function files, so ledger.sql can rely on it.

-- System accounts come in this many shards per kind (see docs/LEDGER.md, "Shards").
CREATE OR REPLACE FUNCTION ledger_shard_count() RETURNS integer
LANGUAGE sql IMMUTABLE AS $$ SELECT 16 $$;
--> statement-breakpoint
INSERT INTO ledger_accounts (kind, shard)
SELECT k.kind, s.shard
FROM unnest(ARRAY['stripe', 'promo', 'revenue']) WITH ORDINALITY AS k (kind, position),
  generate_series(0, ledger_shard_count() - 1) AS s (shard)
ORDER BY k.position, s.shard
ON CONFLICT DO NOTHING;
