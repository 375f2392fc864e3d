import Logging
import Sprout

/// A durable job queue in PostgreSQL, for ``Sprout/ProcessJob`` types run by workers on
/// many hosts (``serve(postgres:jobs:processes:options:logger:)``) — Oban, River or procrastinate
/// for Sprout. The client submits jobs and waits for their outcomes, which are recorded in
/// the `sprout_jobs` table; see docs/JobQueue.md for the schema, states and guarantees.
///
/// ```swift
/// let queue = try await JobQueue.connect("postgresql://postgres@db:5432/postgres")
/// let total = try await queue.map(ranges.map(CountPrimes.init)).reduce(0, +)
/// ```
@Hub
public final class JobQueue {
    /// The server the queue lives in.
    public let url: String
    /// Whether ``submit(_:priority:timeout:retries:maxAttempts:)`` returns only once the
    /// submission is on disk (see ``connect(_:durableSubmissions:statementTimeout:logger:)``).
    public let durableSubmissions: Bool
    /// Where the client's reports go (label `sprout.queue` unless one was given).
    public let logger: Logger
    /// Seconds any statement of this client, or making one of its connections, may take
    /// (see ``connect(_:durableSubmissions:statementTimeout:logger:)``).
    public let statementTimeout: Double
    /// The connection statements run on; `nil` after it broke, until the next call makes another.
    private var db: PostgresConnection?
    /// The connection being made for the callers waiting in ``database()``.
    private var connecting: Greenlet<PostgresConnection>?
    /// Jobs a greenlet of this client waits on: id → who records the outcome.
    private var waiting: [Int: (StoredOutcome) -> Void] = [:]
    /// Jobs announced finished before anyone here waited on them (a fast job finishing
    /// before `submit` returned to its caller), with their outcome when it came inline; bounded.
    private var finishedEarly: [Int: StoredOutcome?] = [:]
    /// When each job waited on here and submitted without waiting for the disk was created
    /// (`created_at` as text): a server crash may lose such a job and give its id to another,
    /// which this tells apart (see ``failLostSubmissions()``).
    private var createdAt: [Int: String] = [:]
    private var listening: Greenlet<Void>?
    /// True once ``close()`` ran.
    public private(set) var isClosed = false

    private init(url: String, durableSubmissions: Bool, statementTimeout: Double, db: PostgresConnection, logger: Logger) {
        self.url = url
        self.durableSubmissions = durableSubmissions
        self.statementTimeout = statementTimeout
        self.logger = logger
        self.db = db
    }

    /// Connects to `url`, creating or migrating the queue's tables if needed, and starts
    /// listening for completions. Reports go to `logger`, `Logger(label: "sprout.queue")`
    /// when `nil`.
    ///
    /// The client outlives its connections: when the server restarts or a connection
    /// breaks, the next call connects anew (a call made while the server is down throws
    /// ``PostgresError/connectFailed(_:)`` at once), and the completions listener
    /// reconnects with backoff (0.05 s doubling to 1 s), listens again and reads the
    /// outcomes recorded meanwhile of every job waited on here — as it does when the server
    /// refuses one of its reads (a cancel, a server-side statement timeout).
    ///
    /// - Parameter durableSubmissions: whether a submission waits for PostgreSQL to flush
    ///   it to disk before its handle is returned (`synchronous_commit = on`, the default).
    ///   With `false` it does not — one WAL flush less per round trip (3.6 ms on this
    ///   project's disk), the durability of a Redis without persistence for the last moments:
    ///   a crash of the database server may then lose jobs whose handles were already
    ///   returned, those submitted up to three times `wal_writer_delay` (0.6 s by default)
    ///   before it, with everything recorded about them; their ids may be given to later
    ///   submissions. Once its connection is back this client fails their handles with
    ///   ``JobQueueError/notFound(id:)``. A job that survives the crash still gets exactly
    ///   one recorded outcome. See docs/JobQueue.md, "Durability".
    /// - Parameter statementTimeout: seconds each statement of the client (a submission, a
    ///   count, a look-up, the listener's reads) and each connection it makes may take. A
    ///   server that hangs without going down (stopped, its disk blocked) would otherwise keep
    ///   callers waiting for ever; past it the call throws ``PostgresError/timedOut(seconds:)``,
    ///   the connection, in an unknown state, is dropped and the next call connects anew. A
    ///   submission that timed out may or may not have been committed.
    /// - Throws: ``PostgresError`` if the server cannot be reached or does not answer within
    ///   `statementTimeout`; ``JobQueueError/schemaTooNew(found:supported:)``; `CancellationError` if killed.
    public static func connect(
        _ url: String, durableSubmissions: Bool = true, statementTimeout: Double = defaultStatementTimeout, logger: Logger? = nil
    ) async throws -> JobQueue {
        let db = try await connection(to: url, statementTimeout: statementTimeout)
        do {
            try await JobQueueSchema.migrate(db)
            let listener = try await connection(to: url, statementTimeout: statementTimeout)
            try await listener.listen(JobQueueSchema.doneChannel)
            let queue = JobQueue(url: url, durableSubmissions: durableSubmissions, statementTimeout: statementTimeout, db: db,
                                 logger: logger ?? Logger(label: JobQueue.loggerLabel))
            queue.listening = spawn(name: "job queue completions") { [weak queue] in
                try await queue?.receiveCompletions(first: listener)
            }
            return queue
        } catch {
            db.close()
            throw error
        }
    }

    /// Queues `job` and returns its handle once the row is committed.
    ///
    /// - Parameters:
    ///   - priority: higher runs first (ties in submission order).
    ///   - timeout: seconds the job may run once started; then its process is killed and it
    ///     fails with ``JobQueueError/timedOut(job:seconds:)``.
    ///   - retries: how many times a crash of its process re-runs it (on the same host).
    ///   - maxAttempts: how many times it may be claimed in all, counting re-runs after a
    ///     host lost its lease; then it fails with ``JobQueueError/leaseExpired(job:attempts:)``.
    /// - Throws: ``Sprout/ProcessPoolError/coding(job:detail:)`` if `job` cannot be encoded
    ///   (a `Double.nan` field), before anything is sent — as `ProcessPool.submit` throws it;
    ///   ``PostgresError``; ``JobQueueError/closed``.
    public func submit<Job: ProcessJob>(
        _ job: Job, priority: Int = 0, timeout: Double? = nil, retries: Int = 0, maxAttempts: Int = 3
    ) async throws -> QueuedJob<Job.Output> {
        let handle = try await submit([job], priority: priority, timeout: timeout, retries: retries, maxAttempts: maxAttempts, analyze: true)[0]
        if handle.id == QueuedJob<Job.Output>.neverInserted, let error = handle.error { throw error }
        return handle
    }

    /// Runs every job on the queue's workers and returns the outputs in input order —
    /// `ProcessPool.map`. The input is read as the jobs are needed (see ``JobQueueFeed``: a
    /// thousand per statement, at most three thousand without an outcome read), so a huge
    /// input is never all in memory. On the first failure the jobs still pending are
    /// cancelled and the rest of the input is not submitted. A job that cannot be encoded
    /// fails alone, as in `ProcessPool.map`: nothing is inserted for it, the others of its
    /// batch are, and the map throws its ``Sprout/ProcessPoolError/coding(job:detail:)`` when
    /// its turn comes in input order.
    ///
    /// - Throws: the first failing job's error, in input order: its ``JobQueueError``, or
    ///   ``Sprout/ProcessPoolError/coding(job:detail:)`` for a job that could not be encoded;
    ///   ``PostgresError``; ``JobQueueError/closed``; `CancellationError` if killed.
    public func map<Jobs: Sequence>(
        _ jobs: Jobs, priority: Int = 0, timeout: Double? = nil, retries: Int = 0
    ) async throws -> [Jobs.Element.Output] where Jobs.Element: ProcessJob {
        var outputs: [Jobs.Element.Output] = []
        outputs.reserveCapacity(jobs.underestimatedCount)
        try await inOrder(jobs, priority: priority, timeout: timeout, retries: retries) { handle in
            outputs.append(try await handle.get())
        }
        return outputs
    }

    /// Every job's outcome, in input order, without stopping at failures — `ProcessPool.mapResults`
    /// (as an array here). The input is read as ``map(_:priority:timeout:retries:)`` reads it.
    /// A job that cannot be encoded gets `.failure(ProcessPoolError.coding(job:detail:))`, as
    /// in `ProcessPool.mapResults`, and nothing is inserted for it; the others run.
    ///
    /// - Throws: only what sending a submission statement throws (``PostgresError``,
    ///   ``JobQueueError/closed``), and `CancellationError` if killed.
    public func mapResults<Jobs: Sequence>(
        _ jobs: Jobs, priority: Int = 0, timeout: Double? = nil, retries: Int = 0
    ) async throws -> [Result<Jobs.Element.Output, any Error>] where Jobs.Element: ProcessJob {
        var results: [Result<Jobs.Element.Output, any Error>] = []
        results.reserveCapacity(jobs.underestimatedCount)
        try await inOrder(jobs, priority: priority, timeout: timeout, retries: retries) { handle in
            _ = try await handle.join()
            results.append(handle.value.map { .success($0) } ?? .failure(handle.error!))
        }
        return results
    }

    /// The outputs in the order the jobs finish — `ProcessPool.imapUnordered`. The input is
    /// read as the outputs are consumed (see ``JobQueueFeed``: jobs submitted and not yet
    /// read stay within its window however slowly the consumer reads), so an endless input
    /// works; the first batch is submitted before this returns. The sequence throws the
    /// first failure (what submitting a later batch throws, too); the input is read no
    /// further once it has, or once the consumer drops the sequence. A job that cannot be
    /// encoded is such a failure, as in `ProcessPool.imapUnordered`: the sequence throws its
    /// ``Sprout/ProcessPoolError/coding(job:detail:)`` (nothing is inserted for it).
    ///
    /// - Throws: what sending the first batch's statement throws (``PostgresError``,
    ///   ``JobQueueError/closed``).
    public func imapUnordered<Jobs: Sequence>(
        _ jobs: Jobs, priority: Int = 0, timeout: Double? = nil, retries: Int = 0
    ) async throws -> AsyncThrowingStream<Jobs.Element.Output, any Error> where Jobs.Element: ProcessJob {
        let outputs = try await UnorderedJobOutputs(JobQueueFeed(jobs, queue: self, priority: priority, timeout: timeout, retries: retries))
        return AsyncThrowingStream { @Hub in try await outputs.next() }
    }

    /// Submits `jobs` through a ``JobQueueFeed`` and hands each handle to `body` in input
    /// order, the next batch submitted as soon as the window has room for it. If `body`
    /// throws, the jobs submitted and unfinished are cancelled and the input is read no further.
    private func inOrder<Jobs: Sequence>(
        _ jobs: Jobs, priority: Int, timeout: Double?, retries: Int,
        _ body: (QueuedJob<Jobs.Element.Output>) async throws -> Void
    ) async throws where Jobs.Element: ProcessJob {
        let feed = JobQueueFeed(jobs, queue: self, priority: priority, timeout: timeout, retries: retries)
        // Handles from `pending[read...]` are submitted and not yet handed to `body`.
        var pending: [QueuedJob<Jobs.Element.Output>] = []
        var read = 0
        do {
            while true {
                if read >= Self.compactAfter {
                    pending.removeFirst(read)
                    read = 0
                }
                pending.append(contentsOf: try await feed.next(outstanding: pending.count - read))
                guard read < pending.count else { return }
                read += 1
                try await body(pending[read - 1])
            }
        } catch {
            // One awaited statement: a handle's own cancel() sends its statement later from a
            // greenlet of its own, and the caller may close the queue before they run.
            // The caller has the map's error; the other jobs' own (cancelled, or born failed
            // for want of an encoding) are not news to anyone.
            for handle in pending[read...] { handle.markObserved() }
            let unfinished = pending[read...].filter { !$0.isReady }
            do {
                try await cancel(jobIDs: unfinished.map(\.id))
            } catch let cancelling {
                logger.warning("job queue client: \(unfinished.count) jobs of a failed map were not cancelled: \(cancelling)")
            }
            throw error
        }
    }

    /// A handle on a job submitted earlier, maybe by another process (a client that died
    /// loses nothing: the outcome waits in the table).
    ///
    /// - Throws: ``JobQueueError/notFound(id:)`` if no such job is in the table;
    ///   ``PostgresError``.
    public func job<Output: Codable & Sendable>(id: Int, as output: Output.Type) async throws -> QueuedJob<Output> {
        let found = try await retryingOnce { try await $0.query("SELECT 1 FROM sprout_jobs WHERE id = $1", [.int(id)]) }
        guard found.rows.count == 1 else {
            throw JobQueueError.notFound(id: id)
        }
        let handle = QueuedJob<Output>(id: id, queue: self)
        wait(on: handle)
        try await fetchOutcomes([id])
        return handle
    }

    /// Cancels job `id` (see ``QueuedJob/cancel()``); does nothing if it already has an outcome.
    ///
    /// - Throws: ``PostgresError``; ``JobQueueError/closed``.
    public func cancel(jobID id: Int) async throws {
        try await cancel(jobIDs: [id])
    }

    /// Cancels every job of `ids` that has no outcome yet, in one statement.
    func cancel(jobIDs ids: [Int]) async throws {
        guard !ids.isEmpty else { return }
        let error = try QueueJSON.encode(RecordedError(.cancelled(job: "")))
        // Cancelling twice cancels once: safe to send again on a new connection.
        _ = try await retryingOnce { try await $0.query("""
            WITH cancelled AS (
                UPDATE sprout_jobs SET state = 'cancelled', error = jsonb_set($2::jsonb, '{job}', to_jsonb(id::text)),
                       finished_at = now(), lease_token = NULL, lease_expires_at = NULL
                WHERE id = ANY($1::bigint[]) AND state IN ('available', 'running')
                RETURNING id
            )
            SELECT pg_notify('\(JobQueueSchema.cancelChannel)', id::text),
                   pg_notify('\(JobQueueSchema.doneChannel)', id::text)
            FROM cancelled
            """, [PostgresArrayLiteral.integers(ids), .text(error)]) }
    }

    /// Counts of the table's rows by state, for monitoring and tests.
    ///
    /// - Throws: ``PostgresError``; ``JobQueueError/closed``.
    public func counts() async throws -> [String: Int] {
        var counts: [String: Int] = [:]
        for row in try await retryingOnce({ try await $0.query("SELECT state, count(*)::int FROM sprout_jobs GROUP BY state") }).rows {
            counts[row[0].string ?? "?"] = row[1].int ?? 0
        }
        return counts
    }

    /// Closes the client's connections; jobs keep running and their outcomes stay in the
    /// table. Greenlets still waiting here fail with ``JobQueueError/closed``; handles nobody
    /// waits on are not reported one by one: one `info` line counts the jobs left without an
    /// outcome here (none when every job had one).
    public func close() {
        guard !isClosed else { return }
        isClosed = true
        listening?.cancel()
        connecting?.cancel()
        db?.close()
        db = nil
        let stranded = waiting
        waiting = [:]
        for (_, record) in stranded { record(.clientClosed) }
        if !stranded.isEmpty {
            logger.info("""
                job queue client closed with \(stranded.count) jobs not finished yet (ids \(stranded.keys.min()!)...\(stranded.keys.max()!)): \
                they run on, and JobQueue.job(id:as:) reads their outcomes from the table
                """)
        }
    }

    // MARK: - Submitting

    /// Queues every job, 1,000 rows per statement, and returns their handles in order.
    /// The parameters mean what they mean for ``submit(_:priority:timeout:retries:maxAttempts:)``.
    /// A job that cannot be encoded (a `Double.nan` field) is not inserted and does not stop
    /// the others: its handle, ``QueuedJob/id`` 0, has already failed with
    /// ``Sprout/ProcessPoolError/coding(job:detail:)``.
    ///
    /// - Throws: ``PostgresError``; ``JobQueueError/closed``. Batches already committed stay queued.
    public func submitAll<Jobs: Sequence>(
        _ jobs: Jobs, priority: Int = 0, timeout: Double? = nil, retries: Int = 0, maxAttempts: Int = 3
    ) async throws -> [QueuedJob<Jobs.Element.Output>] where Jobs.Element: ProcessJob {
        try await submit(Array(jobs), priority: priority, timeout: timeout, retries: retries, maxAttempts: maxAttempts, analyze: true)
    }

    /// ``submitAll(_:priority:timeout:retries:maxAttempts:)`` for an array; `analyze` says
    /// whether a submission of a thousand jobs or more refreshes the table's statistics.
    func submit<Job: ProcessJob>(
        _ jobs: [Job], priority: Int, timeout: Double?, retries: Int, maxAttempts: Int, analyze: Bool
    ) async throws -> [QueuedJob<Job.Output>] {
        guard !isClosed else { throw JobQueueError.closed }
        // Nothing to send: no statement, no wake-up for the hosts, no error from a server down.
        guard !jobs.isEmpty else { return [] }
        var handles: [QueuedJob<Job.Output>] = []
        handles.reserveCapacity(jobs.count)
        let batches = Self.submissionBatches(count: jobs.count)
        var encoded = EncodedJobs(jobs[batches[0]])
        var analyzed = false
        do {
            for (index, batch) in batches.enumerated() {
                // The next batch is encoded while this one's statement runs on the server: the
                // client's work between two statements (encoding the next thousand, making the
                // handles) left its server session idle 4-5 ms per 1,000 jobs (the server's log with
                // log_min_duration_statement = 0, 10,000 tiny jobs).
                let following = index + 1 < batches.count ? batches[index + 1] : nil
                let nextEncoded = following.map { range in spawn(name: "job queue encode") { EncodedJobs(jobs[range]) } }
                // One statement: ids drawn in input order, rows inserted, idle hosts woken. It
                // waits for the disk whatever the server's default unless durableSubmissions is off.
                let parameters: [PostgresValue] = [
                    encoded.parameter, .text(Job.jobName), .int(priority), timeout.map { .double($0) } ?? .null, .int(max(0, retries)),
                    .int(max(1, maxAttempts)), .text(durableSubmissions ? "on" : "off"),
                ]
                // One job (a round trip's): a plain INSERT ... VALUES, without the batch's array,
                // ordering and sequence look-up, which for one row cost the server more than the
                // insert itself.
                // A statement that throws ends the submission: the next batch's encoding stops (or
                // never starts). (Once its jobs are read below, this does nothing.)
                defer { nextEncoded?.cancel() }
                // A batch none of whose jobs encodes sends no statement.
                let ids = encoded.payloads.isEmpty ? [] : encoded.payloads.count == 1 ? try await statement { try await $0.query("""
                    WITH durability AS (
                        SELECT set_config('synchronous_commit', $7, true)
                    ), inserted AS (
                        INSERT INTO sprout_jobs (job_type, payload, priority, timeout_seconds, retries, max_attempts)
                        VALUES ($2, $1, $3::int, $4::float8, $5::int, $6::int)
                        RETURNING id, created_at
                    ), woken AS (
                        SELECT pg_notify('\(JobQueueSchema.availableChannel)', '')
                    )
                    SELECT inserted.id, inserted.created_at::text FROM inserted, woken, durability
                    """, parameters) }.rows
                : try await statement { try await $0.query("""
                    WITH durability AS (
                        SELECT set_config('synchronous_commit', $7, true)
                    ), batch AS MATERIALIZED (
                        -- The sequence looked up once, not per row: per row it was half the
                        -- session's CPU for the statement (8.3 against 4.4 µs per job).
                        SELECT nextval((SELECT pg_get_serial_sequence('sprout_jobs', 'id')::regclass)) AS id, payload, ordinal
                        FROM unnest($1::text[]) WITH ORDINALITY AS batch(payload, ordinal)
                        ORDER BY ordinal
                    ), inserted AS (
                        INSERT INTO sprout_jobs (id, job_type, payload, priority, timeout_seconds, retries, max_attempts)
                        SELECT id, $2, payload, $3::int, $4::float8, $5::int, $6::int FROM batch
                    ), woken AS (
                        SELECT pg_notify('\(JobQueueSchema.availableChannel)', '')
                    )
                    -- The batch's creation time (one for all its rows) on its first row only,
                    -- not formatted and sent again for each row.
                    SELECT batch.id, CASE WHEN batch.ordinal = 1 THEN now()::text END
                    FROM batch, woken, durability ORDER BY batch.ordinal
                    """, parameters) }.rows
                let created = ids.first?[1].string
                var failures = encoded.failures[...]
                // Born failed, in input order between the inserted ones: the jobs that could not be encoded.
                func appendFailed() {
                    while let failure = failures.first, failure.offset == handles.count - batch.lowerBound {
                        handles.append(QueuedJob(unencodable: failure.error, queue: self))
                        failures.removeFirst()
                    }
                }
                for row in ids {
                    appendFailed()
                    let handle = QueuedJob<Job.Output>(id: row[0].int!, queue: self)
                    // A handle still waiting on this id belongs to a job a server crash lost.
                    waiting.removeValue(forKey: handle.id)?(.lost)
                    wait(on: handle)
                    if !durableSubmissions { createdAt[handle.id] = created }
                    handles.append(handle)
                }
                appendFailed()
                if analyze && !analyzed && batch.upperBound >= 1000 {
                    analyzed = true
                    // Hosts claim in the order of the partial index on available jobs; until the
                    // table's statistics see the new rows (autovacuum looks once a minute), the
                    // planner reads every available row and sorts them instead, for each claim:
                    // 2-30 ms per claim with 10,000 queued, against 0.4 ms once analyzed. The plan
                    // needs only how many rows are available, of which types and priorities: those
                    // three columns from a tenth of the default sample take 2-11 ms with 10,000 to
                    // 100,000 rows, the whole table's ANALYZE 8-72 ms, all before the next batch.
                    try await statement { try await $0.execute(
                        "SET LOCAL default_statistics_target = 10; ANALYZE sprout_jobs (state, job_type, priority)") }
                }
                if let nextEncoded { encoded = try await nextEncoded.get() }
            }
        } catch {
            // Batches already committed stay queued without handles: the born-failed ones'
            // errors are the caller's no more than the others'.
            for handle in handles where handle.isReady { handle.markObserved() }
            throw error
        }
        guard !finishedEarly.isEmpty else { return handles }
        var unread: [Int] = []
        for handle in handles {
            guard let early = finishedEarly.removeValue(forKey: handle.id) else { continue }
            if let outcome = early { waiting.removeValue(forKey: handle.id)?(outcome) } else { unread.append(handle.id) }
        }
        if !unread.isEmpty { try await fetchOutcomes(unread) }
        return handles
    }

    /// The rows of each submission statement: 1,000 (one round trip and one commit each, a
    /// bounded parameter), the first only 100 when there are more, so that idle hosts are woken
    /// and start on those while the next thousand are encoded and inserted.
    static func submissionBatches(count: Int) -> [Range<Int>] {
        guard count > 1000 else { return [0..<count] }
        return [0..<100] + stride(from: 100, to: count, by: 1000).map { $0..<min(count, $0 + 1000) }
    }

    // MARK: - Completions

    private func wait<Output: Decodable & Sendable>(on handle: QueuedJob<Output>) {
        // Held until its outcome arrives: a caller may keep only callbacks on it (imapUnordered).
        waiting[handle.id] = { [weak self] stored in
            self?.createdAt[handle.id] = nil
            handle.finish(stored.result(as: Output.self, id: handle.id))
            // Closing the client loses no job: close() reports them in one line, not one per handle.
            if case .clientClosed = stored { handle.markObserved() }
        }
    }

    /// Reads the completion channel on `first`, then on each connection made after the
    /// last one broke or a statement of the listener's was refused (see
    /// ``receiveCompletions(on:)``), until the client closes.
    private func receiveCompletions(first: PostgresConnection) async throws {
        var listener: PostgresConnection? = first
        defer { listener?.close() }
        var lostAt: UInt64?
        var backoff = Backoff()
        while !isClosed {
            do {
                let current: PostgresConnection
                if let listener {
                    current = listener
                } else {
                    current = try await Self.connection(to: url, statementTimeout: statementTimeout)
                    listener = current
                    try await current.listen(JobQueueSchema.doneChannel)
                }
                if let since = lostAt {
                    // Notifications sent while nobody listened are lost: the table has the outcomes.
                    try await failLostSubmissions()
                    let pending = waiting.count
                    try await fetchOutcomes(Array(waiting.keys))
                    logger.notice("job queue client: listening again after \(Self.milliseconds(since: since)) ms; read the outcomes of \(pending) waiting jobs from the table")
                    lostAt = nil
                    backoff.succeeded()
                }
                try await receiveCompletions(on: current)
            } catch _ where isClosed {
                // close() failed every waiter: what the listener was doing when it came ends
                // here, whatever it threw (a statement on the closed connection, or the
                // client's own JobQueueError.closed when it asked for a connection after).
                return
            } catch let error as PostgresError {
                // A refused statement (cancelled by an administrator, a server-side statement
                // timeout) ends the listener no more than a broken connection: either way the
                // outcomes it was reading are read again, with those of every job waited on.
                if lostAt == nil {
                    lostAt = monotonicNanoseconds()
                    // libpq's messages run over several lines: one line per report.
                    let account = "\(error)".split(whereSeparator: \.isNewline).map { $0.trimmingPrefix(while: \.isWhitespace) }.joined(separator: " ")
                    logger.warning("job queue client: \(account); reconnecting")
                }
                listener?.close()
                listener = nil
                try await backoff.pause()
            }
        }
    }

    /// Reads `listener`'s notifications until it breaks: each has a line per finished job,
    /// its id and, for a short output, the output itself (see ``JobQueueSchema/notifyDone(from:)``);
    /// the outcomes not given inline are read in one query.
    private func receiveCompletions(on listener: PostgresConnection) async throws {
        while !isClosed {
            var unread: [Int] = []
            guard let first = try await listener.nextNotification() else { continue }
            var notification: PostgresNotification? = first
            while let next = notification {
                for line in next.payload.split(separator: "\n") {
                    let space = line.firstIndex(of: " ")
                    guard let id = Int(line[..<(space ?? line.endIndex)]) else { continue }
                    let inline = space.map { StoredOutcome.succeeded(String(line[line.index(after: $0)...])) }
                    if let record = waiting[id] {
                        if let inline {
                            waiting[id] = nil
                            record(inline)
                        } else {
                            unread.append(id)
                        }
                    } else {
                        finishedEarly.updateValue(inline, forKey: id)
                    }
                }
                notification = try await listener.nextNotification(timeout: 0)
            }
            if finishedEarly.count > 100_000 { finishedEarly.removeAll() }
            if !unread.isEmpty { try await fetchOutcomes(unread) }
        }
    }

    /// Fails with ``JobQueueError/notFound(id:)`` the handles of jobs submitted here without
    /// waiting for the disk whose rows a server crash undid: their row is gone, or its id was
    /// drawn again for a job created at another time. Run once the connection is back, before
    /// any outcome is read for those ids.
    private func failLostSubmissions() async throws {
        guard !createdAt.isEmpty else { return }
        let ids = Array(createdAt.keys)
        var found: [Int: String] = [:]
        for row in try await retryingOnce({ try await $0.query(
            "SELECT id, created_at::text FROM sprout_jobs WHERE id = ANY($1::bigint[])", [PostgresArrayLiteral.integers(ids)]) }).rows {
            found[row[0].int!] = row[1].string
        }
        let lost = ids.filter { found[$0] != createdAt[$0] }
        if !lost.isEmpty {
            logger.warning("job queue client: \(lost.count) jobs submitted without waiting for the disk were lost by the server")
        }
        for id in lost { waiting.removeValue(forKey: id)?(.lost) }
    }

    private func fetchOutcomes(_ ids: [Int]) async throws {
        guard !ids.isEmpty else { return }
        let rows = try await retryingOnce { try await $0.query("""
            SELECT id, state, result, error::text FROM sprout_jobs
            WHERE id = ANY($1::bigint[]) AND state IN ('succeeded', 'failed', 'cancelled')
            """, [PostgresArrayLiteral.integers(ids)]) }.rows
        for row in rows {
            guard let id = row[0].int, let record = waiting.removeValue(forKey: id) else { continue }
            record(row[1].string == "succeeded" ? .succeeded(row[2].string ?? "null") : .failed(row[3].string ?? "{}"))
        }
    }

    // MARK: - The connection

    /// The statement connection, made anew when the last one broke or the server ended its
    /// session meanwhile (a restart): a statement is never sent on a session already gone,
    /// so a submission is not left in doubt by a restart that happened between two calls.
    /// Callers that arrive while a connection is being made wait for that one.
    ///
    /// - Throws: ``JobQueueError/closed``; what ``PostgresConnection/connect(_:timeout:)``
    ///   throws (``PostgresError/connectFailed(_:)`` at once while the server is down).
    private func database() async throws -> PostgresConnection {
        guard !isClosed else { throw JobQueueError.closed }
        if let db, db.isAlive { return db }
        dropDatabase()
        if let connecting { return try await connecting.get() }
        let attempt = spawn(name: "job queue connect") { [url, statementTimeout] in
            try await Self.connection(to: url, statementTimeout: statementTimeout)
        }
        connecting = attempt
        defer { connecting = nil }
        let connection = try await attempt.get()
        guard !isClosed else {
            connection.close()
            throw JobQueueError.closed
        }
        db = connection
        return connection
    }

    private func dropDatabase() {
        db?.close()
        db = nil
    }

    /// Runs `body` on the statement connection; a connection fault drops that connection so
    /// the next call makes another.
    private func statement<T>(_ body: (PostgresConnection) async throws -> T) async throws -> T {
        let connection = try await database()
        do {
            return try await body(connection)
        } catch let error as PostgresError where error.isConnectionFault {
            if db === connection { dropDatabase() }
            throw error
        }
    }

    /// ``statement(_:)`` for a statement that may run twice (a read, a cancellation): after a
    /// connection fault it runs once more on a new connection — not after a timeout: a server
    /// that hangs would only make the caller wait twice as long.
    private func retryingOnce<T>(_ body: (PostgresConnection) async throws -> T) async throws -> T {
        do {
            return try await statement(body)
        } catch let error as PostgresError where error.isConnectionFault {
            if case .timedOut = error { throw error }
            return try await statement(body)
        }
    }

    /// A connection to `url` whose connecting and statements are bounded by `statementTimeout`.
    static func connection(to url: String, statementTimeout: Double) async throws -> PostgresConnection {
        let connection = try await PostgresConnection.connect(url, timeout: statementTimeout)
        connection.statementTimeout = statementTimeout
        return connection
    }

    private static func milliseconds(since: UInt64) -> UInt64 {
        (monotonicNanoseconds() - since) / 1_000_000
    }
}

extension JobQueue {
    /// The label of the client's logger unless one is given.
    static let loggerLabel = "sprout.queue"
    /// The bound on each statement of a client (and of `serve`'s start-up) unless one is
    /// given: 30 seconds.
    public static let defaultStatementTimeout = PostgresConnection.defaultStatementTimeout
    /// How many handles a map reads before it drops them from its list.
    static var compactAfter: Int { 1024 }
}

/// An outcome as read from the table, before it is decoded as a job's output type.
enum StoredOutcome {
    case succeeded(String)
    case failed(String)
    case clientClosed
    /// A server crash undid its submission (made without waiting for the disk).
    case lost

    func result<Output: Decodable>(as type: Output.Type, id: Int) -> Result<Output, any Error> {
        switch self {
        case .succeeded(let json):
            do {
                return .success(try QueueJSON.decode(Output.self, from: json))
            } catch {
                return .failure(JobQueueError.resultUndecodable(id: id, message: "\(error)"))
            }
        case .failed(let json):
            let recorded = try? QueueJSON.decode(RecordedError.self, from: json)
            return .failure(recorded?.error ?? JobQueueError.undecodable(job: "\(id)", message: json))
        case .clientClosed:
            return .failure(JobQueueError.closed)
        case .lost:
            return .failure(JobQueueError.notFound(id: id))
        }
    }
}
