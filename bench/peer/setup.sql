-- PostGraphile's side of the peer benchmark, applied to the izgraph database by run.sh.
-- Row-level security mirroring izgraph's row scope for a provider (clinical_reads): a
-- participating person not locked to another organization; their doses with them. The JWT's
-- `role` claim ("provider") is the PostgreSQL role PostGraphile switches to, its `org` claim
-- the organization (`jwt.claims.org`).
DO $$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'provider') THEN
    CREATE ROLE provider NOLOGIN;
  END IF;
END $$;
GRANT USAGE ON SCHEMA public TO provider;
GRANT SELECT ON persons, doses TO provider;

ALTER TABLE persons ENABLE ROW LEVEL SECURITY;
ALTER TABLE doses ENABLE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS peer_provider_persons ON persons;
CREATE POLICY peer_provider_persons ON persons FOR SELECT TO provider USING (
  participation = 'PARTICIPATING'
  AND (locked_to_org_id IS NULL
       OR locked_to_org_id = nullif(current_setting('jwt.claims.org', true), '')::uuid)
);
DROP POLICY IF EXISTS peer_provider_doses ON doses;
CREATE POLICY peer_provider_doses ON doses FOR SELECT TO provider USING (
  EXISTS (SELECT 1 FROM persons p WHERE p.id = doses.person_id)
);

-- The optional audit row: one per request, each hashed over the previous one's hash (the
-- head row serializes appends, as izgraph's chain head does).
CREATE TABLE IF NOT EXISTS peer_audit_head (one boolean PRIMARY KEY DEFAULT true CHECK (one),
  seq bigint NOT NULL, hash bytea NOT NULL);
INSERT INTO peer_audit_head (seq, hash) VALUES (0, '\x00') ON CONFLICT DO NOTHING;
CREATE TABLE IF NOT EXISTS peer_audit (seq bigint PRIMARY KEY, at timestamptz NOT NULL DEFAULT now(),
  hash bytea NOT NULL, entry text NOT NULL);
