/// The PostgreSQL schema as numbered migrations. Applied versions are recorded in
/// `avatarize_schema_migrations`; a migration is never edited once released, only followed by a new one.
/// Each migration is a list of single statements because the extended query protocol runs one at a time.
enum PostgresMigrations {
    struct Migration {
        let version: Int
        let name: String
        let statements: [String]
        /// What to do when the migration fails for want of something outside the database (shown with the error).
        var hint: String? = nil
    }

    /// Serialises concurrent `migrate()` calls from workers starting together (an arbitrary constant,
    /// "avatariz" in ASCII, unlikely to collide with another application's advisory lock).
    static let advisoryLockKey: Int64 = 0x6176_6174_6172_697A

    static let all: [Migration] = [
        Migration(version: 1, name: "jobs", statements: [
            """
            CREATE TABLE avatarize_jobs (
                id BIGSERIAL PRIMARY KEY,
                key TEXT NOT NULL UNIQUE,
                kind TEXT NOT NULL,
                payload TEXT NOT NULL,
                priority BIGINT NOT NULL DEFAULT 0,
                state TEXT NOT NULL CHECK (state IN ('queued','running','succeeded','dead','cancelled')),
                attempts BIGINT NOT NULL DEFAULT 0,
                max_attempts BIGINT NOT NULL CHECK (max_attempts >= 1),
                run_after TIMESTAMPTZ NOT NULL,
                lease_owner TEXT,
                lease_expires_at TIMESTAMPTZ,
                last_error TEXT,
                progress_done BIGINT NOT NULL DEFAULT 0,
                progress_total BIGINT NOT NULL DEFAULT 0,
                created_at TIMESTAMPTZ NOT NULL,
                updated_at TIMESTAMPTZ NOT NULL,
                finished_at TIMESTAMPTZ
            )
            """,
            "CREATE INDEX avatarize_jobs_claim ON avatarize_jobs (state, priority DESC, id)",
            """
            CREATE TABLE avatarize_job_events (
                id BIGSERIAL PRIMARY KEY,
                job_id BIGINT NOT NULL REFERENCES avatarize_jobs (id) ON DELETE CASCADE,
                at TIMESTAMPTZ NOT NULL,
                event TEXT NOT NULL,
                worker TEXT,
                detail TEXT
            )
            """,
            "CREATE INDEX avatarize_job_events_job ON avatarize_job_events (job_id, id)",
        ]),
        // finishing: the staged output of an attempt being moved into place; cleanup_pending: a dead or cancelled
        // job whose staging folder a worker still has to remove.
        Migration(version: 2, name: "finishing and cleanup", statements: [
            "ALTER TABLE avatarize_jobs ADD COLUMN finishing TEXT",
            "ALTER TABLE avatarize_jobs ADD COLUMN cleanup_pending BOOLEAN NOT NULL DEFAULT false",
        ]),
        // The dashboard's browsing queries (QueueBrowsing): keyset pages per state, the last hour's finished jobs,
        // and the workers seen lately, each a range scan of an index rather than of the table.
        Migration(version: 3, name: "browsing indexes", statements: [
            "CREATE INDEX avatarize_jobs_state_id ON avatarize_jobs (state, id)",
            "CREATE INDEX avatarize_jobs_state_finished ON avatarize_jobs (state, finished_at)",
            "CREATE INDEX avatarize_job_events_at ON avatarize_job_events (at)",
        ]),
        // Search by input or output name (QueueBrowsing.page): pg_trgm's GIN indexes answer ILIKE '%text%' from
        // trigrams. pg_trgm ships with PostgreSQL (contrib) and is a trusted extension from PostgreSQL 13 on, so
        // the database's owner may create it. And the queued jobs waiting out a retry's backoff: only a failed
        // attempt sets run_after in the future, so a partial index over attempts > 0 holds just those (and the
        // claim query, which does not ask for attempts > 0, cannot take it for its own). And claims by time, where
        // the throughput's window starts (the hour's first claim is found without passing its enqueues).
        Migration(version: 4, name: "name search and waiting retries", statements: [
            "CREATE EXTENSION IF NOT EXISTS pg_trgm",
            "CREATE INDEX avatarize_jobs_input_trgm ON avatarize_jobs USING gin ((payload::jsonb ->> 'input') gin_trgm_ops)",
            "CREATE INDEX avatarize_jobs_output_trgm ON avatarize_jobs USING gin ((payload::jsonb ->> 'output') gin_trgm_ops)",
            "CREATE INDEX avatarize_jobs_waiting_retry ON avatarize_jobs (run_after) WHERE state = 'queued' AND attempts > 0",
            "CREATE INDEX avatarize_job_events_claims ON avatarize_job_events (at) WHERE event = 'claimed'",
        ], hint: "the dashboard's name search needs PostgreSQL's pg_trgm extension: install PostgreSQL's contrib modules, or have the database owner run CREATE EXTENSION pg_trgm"),
        // An avatar job's identity figure (JobRecord.identity), JSON, kept with its finished output. Nullable and
        // without a default, so adding it to a table of any size rewrites nothing.
        Migration(version: 5, name: "identity figure", statements: [
            "ALTER TABLE avatarize_jobs ADD COLUMN identity_figure TEXT",
        ]),
        // The piece ledger (PieceMaker): who makes each intermediate file of a shared clip, under a lease, and how
        // many times it was made.
        Migration(version: 6, name: "pieces", statements: [
            """
            CREATE TABLE avatarize_pieces (
                key TEXT PRIMARY KEY,
                state TEXT NOT NULL CHECK (state IN ('making','done')),
                owner TEXT,
                lease_expires_at TIMESTAMPTZ,
                attempts BIGINT NOT NULL DEFAULT 0,
                created_at TIMESTAMPTZ NOT NULL,
                updated_at TIMESTAMPTZ NOT NULL,
                made_at TIMESTAMPTZ
            )
            """,
        ]),
        // Row versions for the queue core's conditional writes (QueueStore): bumped by a trigger on every update, so
        // that a write decided on a row another process changed since (an older avatarize's too) is refused. A
        // constant default is stored in the catalogue, so adding the columns rewrites no table.
        Migration(version: 7, name: "row versions", statements: [
            "ALTER TABLE avatarize_jobs ADD COLUMN version BIGINT NOT NULL DEFAULT 0",
            "ALTER TABLE avatarize_pieces ADD COLUMN version BIGINT NOT NULL DEFAULT 0",
            """
            CREATE FUNCTION avatarize_bump_version() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN NEW.version := OLD.version + 1; RETURN NEW; END $$
            """,
            "CREATE TRIGGER avatarize_jobs_version BEFORE UPDATE ON avatarize_jobs FOR EACH ROW EXECUTE FUNCTION avatarize_bump_version()",
            "CREATE TRIGGER avatarize_pieces_version BEFORE UPDATE ON avatarize_pieces FOR EACH ROW EXECUTE FUNCTION avatarize_bump_version()",
        ]),
        // The clip each job works on (JobSpec.clip), so that eviction asks a small partial index which clips queued or
        // running jobs need instead of reading every payload (the state in it too, so the index alone answers); filled
        // in from the payloads of the jobs already there.
        Migration(version: 8, name: "clips", statements: [
            "ALTER TABLE avatarize_jobs ADD COLUMN clip TEXT",
            """
            UPDATE avatarize_jobs SET clip = substr(payload::jsonb ->> 'inputDigest', 1, 16)
            WHERE payload LIKE '%inputDigest%' AND jsonb_typeof(payload::jsonb -> 'inputDigest') = 'string'
            """,
            "CREATE INDEX avatarize_jobs_clips_in_use ON avatarize_jobs (clip, state) WHERE state IN ('queued', 'running') AND clip IS NOT NULL",
        ]),
        // Submissions over the HTTP API by idempotency key (scoped by the token's name): a retried request answers
        // the jobs the first one made (QueueBrowsing.recordSubmission).
        Migration(version: 9, name: "api submissions", statements: [
            """
            CREATE TABLE IF NOT EXISTS avatarize_api_submissions (
                idempotency_key TEXT PRIMARY KEY,
                request_digest TEXT NOT NULL,
                job_ids BIGINT[] NOT NULL,
                created_at TIMESTAMPTZ NOT NULL DEFAULT now()
            )
            """,
        ]),
        // Webhooks owed: a job whose payload names a webhook owes its receiver one delivery per outcome, recorded by a
        // trigger in the transaction that ends the job, so that a worker killed between finishing and calling leaves
        // the debt in the queue (WebhookLedger). A later outcome (a retried job that dies) replaces an earlier one.
        Migration(version: 10, name: "webhooks", statements: [
            """
            CREATE TABLE IF NOT EXISTS avatarize_webhooks (
                job_id BIGINT PRIMARY KEY REFERENCES avatarize_jobs (id) ON DELETE CASCADE,
                url TEXT NOT NULL,
                outcome TEXT NOT NULL,
                attempts BIGINT NOT NULL DEFAULT 0,
                next_attempt_at TIMESTAMPTZ NOT NULL,
                lease_owner TEXT,
                lease_expires_at TIMESTAMPTZ,
                delivered_at TIMESTAMPTZ,
                last_status BIGINT,
                last_error TEXT
            )
            """,
            "CREATE INDEX IF NOT EXISTS avatarize_webhooks_owed ON avatarize_webhooks (next_attempt_at) WHERE delivered_at IS NULL",
            """
            CREATE OR REPLACE FUNCTION avatarize_owe_webhook() RETURNS trigger LANGUAGE plpgsql AS $$
            DECLARE hook TEXT;
            BEGIN
                BEGIN
                    hook := CASE WHEN jsonb_typeof(NEW.payload::jsonb -> 'webhook') = 'string' THEN NEW.payload::jsonb ->> 'webhook' END;
                EXCEPTION WHEN others THEN
                    RETURN NULL;  -- a payload that is not JSON (a kind of one's own) names no webhook
                END;
                IF hook IS NULL THEN RETURN NULL; END IF;
                INSERT INTO avatarize_webhooks (job_id, url, outcome, attempts, next_attempt_at)
                VALUES (NEW.id, hook, NEW.state, 0, now())
                ON CONFLICT (job_id) DO UPDATE SET url = EXCLUDED.url, outcome = EXCLUDED.outcome, attempts = 0,
                    next_attempt_at = EXCLUDED.next_attempt_at, lease_owner = NULL, lease_expires_at = NULL,
                    delivered_at = NULL, last_status = NULL, last_error = NULL;
                RETURN NULL;
            END $$
            """,
            "DROP TRIGGER IF EXISTS avatarize_jobs_webhook ON avatarize_jobs",
            """
            CREATE TRIGGER avatarize_jobs_webhook AFTER UPDATE OF state ON avatarize_jobs FOR EACH ROW
            WHEN (NEW.state IN ('succeeded', 'dead', 'cancelled') AND OLD.state IS DISTINCT FROM NEW.state
                  AND NEW.payload LIKE '%"webhook"%')
            EXECUTE FUNCTION avatarize_owe_webhook()
            """,
        ]),
        // The precision an output was made in (JobRecord.precision), kept with it as the identity figure is.
        Migration(version: 11, name: "precision", statements: [
            "ALTER TABLE avatarize_jobs ADD COLUMN IF NOT EXISTS precision TEXT",
        ]),
    ]

    static var latestVersion: Int { all.map(\.version).max() ?? 0 }
}
