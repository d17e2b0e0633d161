import GRDB

/// The SQLite schema as GRDB migrations, applied in order and recorded in `grdb_migrations`; a migration is never
/// edited once released, only followed by a new one.
enum SQLiteMigrations {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1-jobs") { db in
            try db.execute(sql: """
                CREATE TABLE IF NOT EXISTS avatarize_jobs (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    key TEXT NOT NULL UNIQUE,
                    kind TEXT NOT NULL,
                    payload TEXT NOT NULL,
                    priority INTEGER NOT NULL DEFAULT 0,
                    state TEXT NOT NULL CHECK (state IN ('queued','running','succeeded','dead','cancelled')),
                    attempts INTEGER NOT NULL DEFAULT 0,
                    max_attempts INTEGER NOT NULL CHECK (max_attempts >= 1),
                    run_after REAL NOT NULL,
                    lease_owner TEXT,
                    lease_expires_at REAL,
                    last_error TEXT,
                    progress_done INTEGER NOT NULL DEFAULT 0,
                    progress_total INTEGER NOT NULL DEFAULT 0,
                    created_at REAL NOT NULL,
                    updated_at REAL NOT NULL,
                    finished_at REAL
                );
                CREATE INDEX IF NOT EXISTS avatarize_jobs_claim ON avatarize_jobs (state, priority DESC, id);
                CREATE TABLE IF NOT EXISTS avatarize_job_events (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    job_id INTEGER NOT NULL REFERENCES avatarize_jobs (id) ON DELETE CASCADE,
                    at REAL NOT NULL,
                    event TEXT NOT NULL,
                    worker TEXT,
                    detail TEXT
                );
                CREATE INDEX IF NOT EXISTS avatarize_job_events_job ON avatarize_job_events (job_id, id);
                """)
        }
        // finishing: the staged output of an attempt that is being moved into place; cleanup_pending: a dead or
        // cancelled job whose staging folder a worker still has to remove.
        migrator.registerMigration("v2-finishing-cleanup") { db in
            try db.execute(sql: """
                ALTER TABLE avatarize_jobs ADD COLUMN finishing TEXT;
                ALTER TABLE avatarize_jobs ADD COLUMN cleanup_pending INTEGER NOT NULL DEFAULT 0;
                """)
        }
        // The dashboard's browsing queries (QueueBrowsing): keyset pages per state, the last hour's finished jobs,
        // and the workers seen lately, each a range scan of an index rather than of the table.
        migrator.registerMigration("v3-browsing") { db in
            try db.execute(sql: """
                CREATE INDEX IF NOT EXISTS avatarize_jobs_state_id ON avatarize_jobs (state, id);
                CREATE INDEX IF NOT EXISTS avatarize_jobs_state_finished ON avatarize_jobs (state, finished_at);
                CREATE INDEX IF NOT EXISTS avatarize_job_events_at ON avatarize_job_events (at);
                """)
        }
        // Search by input or output name: an FTS5 table with the trigram tokenizer (SQLite 3.34+) whose rowid is the
        // job's id, kept by triggers. Contentless (content=''), since a phrase of trigrams is matched from positions
        // alone and the names already live in the payload; a contentless row is removed by the 'delete' command
        // with the values it was indexed with. Also the queued jobs waiting out a retry's backoff: only a failed
        // attempt sets run_after in the future, so they are the queued jobs with attempts > 0, a small partial index
        // (one the claim query, which does not ask for attempts > 0, cannot pick instead of its own). And claims by
        // time, where the throughput's window starts (the hour's first claim is found without passing its enqueues).
        migrator.registerMigration("v4-name-search-and-retries") { db in
            func names(_ row: String) -> String {
                ["input", "output"].map { "CASE WHEN json_valid(\(row).payload) THEN json_extract(\(row).payload, '$.\($0)') END" }
                    .joined(separator: ", ")
            }
            try db.execute(sql: """
                CREATE VIRTUAL TABLE IF NOT EXISTS avatarize_job_names USING fts5(input, output, content = '', tokenize = 'trigram');
                INSERT INTO avatarize_job_names (rowid, input, output) SELECT id, \(names("avatarize_jobs")) FROM avatarize_jobs;
                CREATE TRIGGER IF NOT EXISTS avatarize_jobs_names_added AFTER INSERT ON avatarize_jobs BEGIN
                    INSERT INTO avatarize_job_names (rowid, input, output) VALUES (new.id, \(names("new")));
                END;
                CREATE TRIGGER IF NOT EXISTS avatarize_jobs_names_removed AFTER DELETE ON avatarize_jobs BEGIN
                    INSERT INTO avatarize_job_names (avatarize_job_names, rowid, input, output) VALUES ('delete', old.id, \(names("old")));
                END;
                CREATE INDEX IF NOT EXISTS avatarize_jobs_waiting_retry ON avatarize_jobs (run_after) WHERE state = 'queued' AND attempts > 0;
                CREATE INDEX IF NOT EXISTS avatarize_job_events_claims ON avatarize_job_events (at) WHERE event = 'claimed';
                """)
        }
        // An avatar job's identity figure (JobRecord.identity), JSON, kept with its finished output.
        migrator.registerMigration("v5-identity-figure") { db in
            try db.execute(sql: "ALTER TABLE avatarize_jobs ADD COLUMN identity_figure TEXT")
        }
        // The piece ledger (PieceMaker): who makes each intermediate file of a shared clip, under a lease, and how many
        // times it was made.
        migrator.registerMigration("v6-pieces") { db in
            try db.execute(sql: """
                CREATE TABLE IF NOT EXISTS avatarize_pieces (
                    key TEXT PRIMARY KEY,
                    state TEXT NOT NULL CHECK (state IN ('making','done')),
                    owner TEXT,
                    lease_expires_at REAL,
                    attempts INTEGER NOT NULL DEFAULT 0,
                    created_at REAL NOT NULL,
                    updated_at REAL NOT NULL,
                    made_at REAL
                );
                """)
        }
        // Row versions for the queue core's conditional writes (QueueStore): bumped by a trigger on every update, so
        // that a write decided on a row another process changed since (an older avatarize's too) is refused.
        migrator.registerMigration("v7-row-versions") { db in
            for table in ["avatarize_jobs", "avatarize_pieces"] {
                let key = table == "avatarize_jobs" ? "id" : "key"
                try db.execute(sql: """
                    ALTER TABLE \(table) ADD COLUMN version INTEGER NOT NULL DEFAULT 0;
                    CREATE TRIGGER IF NOT EXISTS \(table)_version AFTER UPDATE ON \(table) WHEN new.version = old.version BEGIN
                        UPDATE \(table) SET version = old.version + 1 WHERE \(key) = old.\(key);
                    END;
                    """)
            }
        }
        // The clip each job works on (JobSpec.clip), so that eviction asks a small partial index which clips queued or
        // running jobs need instead of reading every payload (the state in it too, so the index alone answers); filled
        // in from the payloads of the jobs already there.
        migrator.registerMigration("v8-clips") { db in
            try db.execute(sql: """
                ALTER TABLE avatarize_jobs ADD COLUMN clip TEXT;
                UPDATE avatarize_jobs SET clip = substr(json_extract(payload, '$.inputDigest'), 1, 16)
                WHERE json_valid(payload) AND json_type(payload, '$.inputDigest') = 'text';
                CREATE INDEX IF NOT EXISTS avatarize_jobs_clips_in_use ON avatarize_jobs (clip, state)
                WHERE state IN ('queued', 'running') AND clip IS NOT NULL;
                """)
        }
        // Submissions over the HTTP API by idempotency key (scoped by the token's name): a retried request answers
        // the jobs the first one made (QueueBrowsing.recordSubmission).
        migrator.registerMigration("v9-api-submissions") { db in
            try db.execute(sql: """
                CREATE TABLE IF NOT EXISTS avatarize_api_submissions (
                    idempotency_key TEXT PRIMARY KEY,
                    request_digest TEXT NOT NULL,
                    job_ids TEXT NOT NULL,
                    created_at REAL NOT NULL
                );
                """)
        }
        // Webhooks owed: a job whose payload names a webhook owes its receiver one delivery per outcome, recorded by a
        // trigger in the transaction that ends the job, so that a worker killed between finishing and calling leaves
        // the debt in the queue (WebhookLedger). A later outcome (a retried job that dies) replaces an earlier one.
        migrator.registerMigration("v10-webhooks") { db in
            try db.execute(sql: """
                CREATE TABLE IF NOT EXISTS avatarize_webhooks (
                    job_id INTEGER PRIMARY KEY REFERENCES avatarize_jobs (id) ON DELETE CASCADE,
                    url TEXT NOT NULL,
                    outcome TEXT NOT NULL,
                    attempts INTEGER NOT NULL DEFAULT 0,
                    next_attempt_at REAL NOT NULL,
                    lease_owner TEXT,
                    lease_expires_at REAL,
                    delivered_at REAL,
                    last_status INTEGER,
                    last_error TEXT
                );
                CREATE INDEX IF NOT EXISTS avatarize_webhooks_owed ON avatarize_webhooks (next_attempt_at) WHERE delivered_at IS NULL;
                CREATE TRIGGER IF NOT EXISTS avatarize_jobs_webhook AFTER UPDATE OF state ON avatarize_jobs
                WHEN NEW.state IN ('succeeded', 'dead', 'cancelled') AND OLD.state <> NEW.state
                     AND json_valid(NEW.payload) AND json_type(NEW.payload, '$.webhook') = 'text'
                BEGIN
                    INSERT INTO avatarize_webhooks (job_id, url, outcome, attempts, next_attempt_at)
                    VALUES (NEW.id, json_extract(NEW.payload, '$.webhook'), NEW.state, 0, NEW.updated_at)
                    ON CONFLICT (job_id) DO UPDATE SET url = excluded.url, outcome = excluded.outcome, attempts = 0,
                        next_attempt_at = excluded.next_attempt_at, lease_owner = NULL, lease_expires_at = NULL,
                        delivered_at = NULL, last_status = NULL, last_error = NULL;
                END;
                """)
        }
        // The precision an output was made in (JobRecord.precision), kept with it as the identity figure is.
        migrator.registerMigration("v11-precision") { db in
            try db.execute(sql: "ALTER TABLE avatarize_jobs ADD COLUMN precision TEXT")
        }
        return migrator
    }
}
