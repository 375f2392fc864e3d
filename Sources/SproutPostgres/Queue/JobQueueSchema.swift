import Sprout

/// The queue's tables, made and migrated by the library: each migration runs once, in
/// order, under an advisory lock, and records the version it brings the schema to.
enum JobQueueSchema {
    /// The version this build of the library expects.
    static let version = 2

    /// Where the channel names and the advisory lock key live, shared by clients and workers.
    static let availableChannel = "sprout_jobs_available"
    static let doneChannel = "sprout_jobs_done"
    static let cancelChannel = "sprout_jobs_cancel"
    private static let migrationLockKey = 0x5370_726F_7574 // "Sprout"
    /// Outputs up to this many bytes travel inside the done notification.
    static let inlineOutputLimit = 200

    /// A `SELECT` that announces the finished jobs of `relation` (columns `id`, `state`,
    /// `result`) on ``doneChannel``: one line per job, its id, then a space and its output
    /// when it succeeded with a short one-line output, so the waiting client needs no query
    /// to read it. Lines are grouped into payloads under PostgreSQL's 8,000-byte limit.
    static func notifyDone(from relation: String) -> String {
        """
        SELECT count(*) AS sent FROM (
            SELECT pg_notify('\(doneChannel)', string_agg(entry, E'\\n' ORDER BY id)) FROM (
                SELECT id, entry, sum(octet_length(entry) + 1) OVER (ORDER BY id) / 7000 AS chunk FROM (
                    SELECT id, \(doneEntry) AS entry
                    FROM \(relation)) AS finished
            ) AS lines GROUP BY chunk
        ) AS notes
        """
    }

    /// The same notifications as ``notifyDone(from:)`` for `relation`s whose column `chunk`
    /// already says which payload each line goes in (``doneChunks(_:)``, worked out by the
    /// host sending the answers): no running sum over the lines, no sort, lines in no
    /// particular order. The window and the sorts cost the server about 2 µs per answer.
    static func notifyDone(chunked relation: String) -> String {
        """
        SELECT count(*) AS sent FROM (
            SELECT pg_notify('\(doneChannel)', string_agg(\(doneEntry), E'\\n')) FROM \(relation) GROUP BY chunk
        ) AS notes
        """
    }

    /// The payload each answer's line goes in, in order, cut as ``notifyDone(from:)`` cuts
    /// them: lines of answers the table refuses are counted too, so a payload is at most as
    /// long as reckoned here.
    static func doneChunks(_ answers: some Sequence<(id: Int, state: String, result: String?)>) -> [Int] {
        var total = 0
        return answers.map { answer in
            // Digits of the id (ids are positive), the newline, and the output if ``doneEntry`` inlines it.
            var length = 2
            var id = answer.id
            while id >= 10 {
                id /= 10
                length += 1
            }
            if answer.state == "succeeded", let result = answer.result, result.utf8.count <= inlineOutputLimit,
               !result.utf8.contains(UInt8(ascii: "\n")) {
                length += 1 + result.utf8.count
            }
            total += length
            return total / 7000
        }
    }

    /// One finished job's line of a done notification, from columns `id`, `state` and
    /// `result`: its id, then a space and its output if that is short and on one line.
    static let doneEntry = """
        id::text || CASE WHEN state = 'succeeded' AND octet_length(result) <= \(inlineOutputLimit)
                           AND strpos(result, E'\\n') = 0 THEN ' ' || result ELSE '' END
        """

    /// Migration `n` brings the schema from version `n` to `n + 1`.
    private static let migrations = [
        """
        CREATE TABLE sprout_jobs (
            id bigserial PRIMARY KEY,
            job_type text NOT NULL,
            payload text NOT NULL,
            priority int NOT NULL DEFAULT 0,
            state text NOT NULL DEFAULT 'available'
                CHECK (state IN ('available', 'running', 'succeeded', 'failed', 'cancelled')),
            attempts int NOT NULL DEFAULT 0,
            max_attempts int NOT NULL DEFAULT 3 CHECK (max_attempts >= 1),
            retries int NOT NULL DEFAULT 0,
            timeout_seconds double precision,
            lease_token uuid,
            lease_expires_at timestamptz,
            worker text,
            result text,
            error jsonb,
            created_at timestamptz NOT NULL DEFAULT now(),
            started_at timestamptz,
            finished_at timestamptz
        );
        CREATE INDEX sprout_jobs_claim ON sprout_jobs (priority DESC, id) WHERE state = 'available';
        CREATE INDEX sprout_jobs_leases ON sprout_jobs (lease_expires_at) WHERE state = 'running';
        CREATE INDEX sprout_jobs_finished ON sprout_jobs (finished_at) WHERE finished_at IS NOT NULL;
        """,
        // Less WAL and server time per job. A row is written three times (submitted, claimed,
        // finished), and every update changes an indexed column, so none is HOT. With pages
        // filled to half by inserts, the two updates find room on their row's page: PostgreSQL
        // then logs only the bytes that changed, and no lock record for moving the row to
        // another page. The pruning's B-tree on finished_at took an entry (64 bytes of WAL)
        // from every answer; a BRIN index takes none from rows on page ranges VACUUM has not
        // summarized yet (the recent ones), and pruning reads the ranges it points to.
        // Finished rows stay on half-full pages until pruned. Per job, 10,000 tiny jobs:
        // claims 477 to 373 bytes of WAL, answers 386 to 217 bytes and 14.7 to 11.7 µs;
        // 1,181 to 915 bytes in all (docs/JobQueue.md, "Schema (version 2)", gives the command).
        """
        ALTER TABLE sprout_jobs SET (fillfactor = 50);
        DROP INDEX sprout_jobs_finished;
        CREATE INDEX sprout_jobs_finished ON sprout_jobs USING brin (finished_at);
        """,
    ]

    /// Seconds a migration waits for a lock on the table (`lock_timeout`) before it gives way,
    /// rolled back, and tries again after a pause (see ``Backoff``): `DROP INDEX` asks for
    /// ACCESS EXCLUSIVE, and while that request waits (behind a long read, say) every
    /// statement on the table, the hosts' claims and answers too, queues behind it.
    static let migrationLockTimeout = 0.5
    /// Tries of a migration that cannot have its locks before ``migrate(_:)`` throws the
    /// server's lock timeout (55P03): about 25 s in all.
    static let migrationTries = 20

    /// Creates the tables or brings them to ``version``; a migration that cannot have the
    /// table's locks within ``migrationLockTimeout`` is tried again, up to ``migrationTries`` times.
    ///
    /// - Throws: ``JobQueueError/schemaTooNew(found:supported:)`` if a newer library has
    ///   migrated the database; ``PostgresError`` from the statements.
    @Hub
    static func migrate(_ db: PostgresConnection) async throws {
        var backoff = Backoff()
        for attempt in 1... {
            do {
                return try await migrateOnce(db)
            } catch let error as PostgresError where error.sqlState == "55P03" && attempt < migrationTries {
                try await backoff.pause()
            }
        }
    }

    @Hub
    private static func migrateOnce(_ db: PostgresConnection) async throws {
        try await db.transaction { db in
            try await db.query("SELECT pg_advisory_xact_lock($1)", [.int(migrationLockKey)])
            try await db.execute("CREATE TABLE IF NOT EXISTS sprout_schema (version int NOT NULL)")
            let found = try await db.query("SELECT version FROM sprout_schema").rows.first?[0].int
            if found == nil { try await db.query("INSERT INTO sprout_schema VALUES (0)") }
            let current = found ?? 0
            guard current <= version else { throw JobQueueError.schemaTooNew(found: current, supported: version) }
            if current < version { try await db.execute("SET LOCAL lock_timeout = '\(Int(migrationLockTimeout * 1000))ms'") }
            for migration in migrations[current..<version] { try await db.execute(migration) }
            try await db.query("UPDATE sprout_schema SET version = $1", [.int(version)])
        }
    }
}
