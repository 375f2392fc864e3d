import Logging
import Sprout

#if canImport(Glibc)
import Glibc
#endif

/// One worker host: claims jobs of the types it registered, runs them in a local
/// ``Sprout/ProcessPool``, records each outcome with its lease token, heartbeats its leases,
/// re-queues other hosts' expired ones, and drains on SIGTERM. The database connection is
/// remade when it breaks (a host cut off comes back); outcomes wait in memory meanwhile and
/// are refused if their lease was lost.
@Hub
final class QueueWorker {
    private struct Running {
        let token: String
        let cancel: () -> Void
    }

    private let url: String
    private let options: JobQueueWorkerOptions
    private let jobTypes: [String: any ProcessJob.Type]
    private let pool: ProcessPool
    /// Where a statement that failed without breaking its connection is reported.
    private let logger: Logger
    /// Statements in flight at once, each on a connection of its own: while one waits for its
    /// commit, the next records what finished meanwhile and claims more, and the server runs
    /// both on two cores. With one, the host spent 92 % of a 10,000 tiny jobs run waiting on
    /// that one statement, whose server process did 80 % of the server's work.
    private static let lanes = 2
    /// Where the heartbeats' statements run: a session after the lanes', of their own. On
    /// lane 0's, a beat waited for its turn behind statements that may take the whole time
    /// limit (an answer or hand-back the server is slow to take), and timed out with them,
    /// beat after beat, until the host's running jobs lost their leases.
    private static let heartbeatLane = lanes
    /// Each lane's connection, then the heartbeats'. `nil` once broken, until that lane's
    /// next statement.
    private var connections: [PostgresConnection?] = Array(repeating: nil, count: lanes + 1)
    /// Jobs asked for by the claims in flight: held already, as far as ``heldAtMost`` goes.
    private var claiming = 0
    /// Statements recording answers in flight.
    private var answering = 0
    /// The first error that ended a lane: the other lanes end too.
    private var failure: (any Error)?
    private var running: [Int: Running] = [:]
    private var outcomes = AnswerBacklog()
    /// Jobs claimed and not started when the host began to drain, with their lease tokens:
    /// handed back to the table (available again, the attempt not counted) for other hosts.
    private var releases: [(id: Int, token: String)] = []
    /// The hand-backs of ``releases`` being sent: their leases are still this host's until
    /// the statement is through.
    private var handingBack: [(id: Int, token: String)] = []
    /// Refusals in a row of the statement handing back ``releases``: at ``AnswerBacklog/tries``
    /// they are given up (their leases run out), so a drain always ends.
    private var releaseRefusals = 0
    /// Whether jobs became available again without a notification: a claim that failed was
    /// rolled back, and other hosts skipped its locked rows meanwhile.
    private var owesWakeUp = false
    /// No lane claims before this time (monotonic nanoseconds) after a claim failed: the
    /// failed lane tries again after its backoff, and the other hosts, woken, claim first.
    private var claimsResumeAt: UInt64 = 0
    private let wake = Event()
    private var draining = false
    /// When ``drain()`` began (monotonic nanoseconds).
    private var drainStarted: UInt64 = 0
    /// When the lanes' statements began to fail, none going through since (monotonic
    /// nanoseconds); `nil` after one went through. The host's, not a lane's: a lane whose
    /// statement failed may see the next one go through on the other lane, and counted from
    /// its own failure long past, a drain gave up at its last answer's first failure.
    private var failingSince: UInt64?
    /// Set each time the listener starts listening: cancellations sent while it did not (before
    /// its first `LISTEN`, or while its connection was remade) reached nobody, so the serving
    /// loop asks the table which of its running jobs were withdrawn.
    private var listenedSinceCheck = false
    private var stopped = false
    private var lastPrune: UInt64 = 0
    /// Answers the table refused because the row no longer held their lease token (the lease
    /// passed to another host, the job cancelled while it ran, the claim undone by a crash).
    private(set) var refusedAnswers = 0
    /// Seconds per statement, smoothed, and when the latest jobs finished (oldest first, from
    /// `firstFinished` on): how many jobs this host holds follows from them (see ``heldAtMost``).
    private var statementSeconds = 0.0
    private var finishedAt: [UInt64] = []
    private var firstFinished = 0
    /// Counts the new-job notifications: a claim that found fewer jobs than it asked for
    /// claims again at once if one came while it was in flight, as the other lane, woken by
    /// it, left the claim to this one.
    private var newJobSignals = 0

    init(url: String, jobs: [any ProcessJob.Type], pool: ProcessPool, options: JobQueueWorkerOptions, logger: Logger) {
        self.url = url
        self.options = options
        self.pool = pool
        self.logger = logger
        jobTypes = Dictionary(jobs.map { ($0.jobName, $0) }, uniquingKeysWith: { first, _ in first })
    }

    private var statementTimeout: Double { max(0.5, options.leaseSeconds / 3) }
    /// One job per process, plus as many as the processes finished in the last two statements'
    /// time (counted, not extrapolated from a rate: two lanes' statements can start microseconds
    /// apart, and a rate measured over that gap had one host claim twelve long jobs of twelve), and
    /// never fewer than two per process (one running, one next in line: a host that starts on an
    /// unknown job claims four jobs for two processes, not two, so its pool has the next job at
    /// hand and the bound doubles from there): tiny jobs are held by the hundred (one commit per
    /// batch, not per job), jobs longer than two statements at most two per process (another
    /// host can take the rest). Jobs shorter than a
    /// statement (more than two per process finished in that time) count twice beyond those two:
    /// counted once, the pool ran out while each claim was in flight, statements and runs taking
    /// turns (one claim of 100 held at a time, 24k tiny jobs/s); counted twice, one lane claims
    /// while the other answers and the pool keeps running (32-38k/s). Each job leaving the window
    /// lowers the bound by two at most. At most `jobsPerProcess` per process.
    private var heldAtMost: Int {
        let finished = finishedRecently
        let cover = finished + max(0, finished - 2 * pool.size)
        return min(pool.size * max(1, options.jobsPerProcess), max(2 * pool.size, pool.size + cover))
    }

    /// Jobs finished within the last two statements' time.
    private var finishedRecently: Int {
        let since = monotonicNanoseconds() &- UInt64(2 * statementSeconds * 1e9)
        while firstFinished < finishedAt.count && finishedAt[firstFinished] < since { firstFinished += 1 }
        if firstFinished > 4096 && firstFinished * 2 > finishedAt.count {
            finishedAt.removeFirst(firstFinished)
            firstFinished = 0
        }
        return finishedAt.count - firstFinished
    }

    /// Runs until a signal of `terms` (SIGTERM; one that came before this call counts) or
    /// ``drain()``, and every claimed job is recorded.
    func serve(until terms: Signals) async throws {
        let signals = spawn(name: "job queue SIGTERM") { [weak self] in
            _ = try await terms.wait()
            await self?.drain()
        }
        let listening = spawn(name: "job queue wake-ups") { [weak self] in try await self?.listen() }
        let beating = spawn(name: "job queue heartbeat") { [weak self] in try await self?.heartbeat() }
        defer {
            signals.cancel()
            listening.cancel()
            beating.cancel()
            for connection in connections { connection?.close() }
        }
        // Every lane's session made now, not when the first jobs come: made then (a server
        // process started, its catalog caches empty), the second lane's held the host's first
        // claim 7-8 ms after the jobs' NOTIFY (the server's log, 10,000 tiny jobs).
        // The heartbeats' too: a host's sessions are the same from its start to its end.
        for lane in 0...Self.heartbeatLane { _ = try await database(lane: lane) }
        let lanes = (0..<Self.lanes).map { lane in
            spawn(name: "job queue statements") { [weak self] in try await self?.runStatements(lane: lane) }
        }
        defer { for lane in lanes { lane.cancel() } }
        for lane in lanes { try await lane.get() }
        stopped = true
    }

    /// One lane's statements until the host has drained or another lane failed; a failure
    /// here ends the other lanes too.
    private func runStatements(lane: Int) async throws {
        do {
            try await statementLoop(lane: lane)
        } catch {
            if failure == nil { failure = error }
            wake.set()
            throw error
        }
    }

    private func statementLoop(lane: Int) async throws {
        // After a connection fault (a server restart, a host cut off) or a statement the
        // server refused (a statement or lock timeout, a trigger's error, a deadlock) the next
        // try waits 0.05 s, doubling to 1 s: a server that is down or failing is not asked 5
        // times a second. Neither ends the host: its running jobs and their leases are kept,
        // and the answers of the failed statement are sent again.
        var backoff = Backoff()
        // `newJobSignals` when this lane's last claim came back short: the queue held no more
        // of its jobs then.
        var emptyAtSignals: Int?
        while failure == nil {
            wake.clear()
            do {
                if drained { break }
                if !releases.isEmpty || owesWakeUp {
                    try await release(lane: lane)
                    failingSince = nil
                }
                if listenedSinceCheck && claiming == 0 {
                    listenedSinceCheck = false
                    do {
                        try await cancelWithdrawnJobs()
                    } catch {
                        listenedSinceCheck = true
                        throw error
                    }
                    failingSince = nil
                }
                // A claim goes when answers wait or are being recorded (finishing jobs made
                // room), when half the held jobs are done, or when none are held (one round
                // trip per job otherwise).
                // One claim in flight at a time: the jobs of two could reach the pool out of
                // priority order.
                // The bound read once: it falls as finished jobs leave its window, and a
                // second reading a moment later could give a negative claim (the server
                // refused `LIMIT -5` and the host ended).
                let bound = heldAtMost
                let room = bound - running.count - claiming
                let claimable = !draining && room > 0 && claiming == 0 && monotonicNanoseconds() >= claimsResumeAt
                    ? min(room, options.claimBatch) : 0
                let wanted = !outcomes.isEmpty || answering > 0 || room >= bound / 2 || running.count + claiming == 0 ? claimable : 0
                // A claim never rides with answers: it came back only after their commit (the
                // disk, when durable) while the pool ran dry. Waiting answers go first unless
                // another lane is recording some already; then this lane claims, unless its
                // last claim found the queue empty and no job came since.
                let queueEmpty = emptyAtSignals == newJobSignals
                if wanted > 0 && (outcomes.isEmpty || (answering > 0 && !queueEmpty)) {
                    let signals = newJobSignals
                    let claimed = try await claim(wanted, lane: lane)
                    backoff.succeeded()
                    failingSince = nil
                    emptyAtSignals = claimed < wanted ? signals : nil
                    if !outcomes.isEmpty || claimed == wanted || newJobSignals != signals { continue }
                } else if !outcomes.isEmpty {
                    try await answer(lane: lane)
                    backoff.succeeded()
                    failingSince = nil
                    continue
                }
            } catch let error as PostgresError {
                if error.isConnectionFault {
                    dropConnection(lane: lane)
                } else {
                    logger.warning("job queue host: a statement failed, retrying in \(backoff.delay) s: \(error)")
                }
                // A drained host whose last answers or hand-backs cannot reach the server
                // gives up once they have failed for a lease since the drain began: by then
                // its leases have run out, and other hosts run those jobs again.
                let since = failingSince ?? monotonicNanoseconds()
                failingSince = since
                if draining && running.isEmpty && monotonicNanoseconds() - max(since, drainStarted) > UInt64(options.leaseSeconds * 1e9) {
                    logger.error("""
                        job queue host: draining, gave up after \(options.leaseSeconds) s of failures with \(outcomes.count) \
                        answers and \(releases.count) hand-backs unrecorded (their jobs run again elsewhere): \(error)
                        """)
                    throw error
                }
                // Before this lane tries again: the other hosts' claims skipped the rows of a
                // claim that failed, and woken only after it, they would find them locked again.
                if owesWakeUp {
                    claimsResumeAt = monotonicNanoseconds() + UInt64(backoff.delay * 1e9)
                    try? await release(lane: lane)
                }
                try await backoff.pause()
                continue
            }
            // A drain ends as soon as the last answers are in, not at the next wake-up.
            if drained { break }
            // Not only wake-ups end the wait: the claim after one that timed out finds a job no
            // NOTIFY announced (a row inserted by SQL of one's own) a third of the lease later
            // at most. (Jobs announced while the listener reconnected are looked for once it listens.)
            if outcomes.isEmpty && releases.isEmpty && !owesWakeUp { _ = try await wake.wait(timeout: statementTimeout) }
        }
    }

    /// Whether a draining host has nothing left to run or send, a wake-up owed to the other
    /// hosts included.
    private var drained: Bool {
        draining && running.isEmpty && outcomes.isEmpty && releases.isEmpty && !owesWakeUp
    }

    /// Claims no more jobs and starts none: the jobs claimed and still queued in the local
    /// pool are handed back to the table at once, for other hosts; ``serve(until:)`` returns once
    /// the running ones are recorded. (Jobs already sent ahead to a pool process and not
    /// started there are withdrawn and handed back too: the pool's `shutdown(cancelPending:)`.)
    func drain() async {
        guard !draining else { return }
        draining = true
        drainStarted = monotonicNanoseconds()
        wake.set()
        // Queued jobs fail with JobCancelled at once, and record() hands them back.
        try? await pool.shutdown(wait: false, cancelPending: true)
    }

    // MARK: - The database

    private func database(lane: Int = 0) async throws -> PostgresConnection {
        if let db = connections[lane], !db.isClosed { return db }
        let connection = try await JobQueue.connection(to: url, statementTimeout: statementTimeout)
        // A lane runs the same few statements for ever: planned once, not again and again.
        // Left to choose, the server planned a prepared statement afresh at some of its runs
        // (its estimates make a fresh plan look cheaper now and then), the cost preparing it
        // was meant to save.
        try await connection.execute("SET plan_cache_mode = force_generic_plan")
        // Answers wait for the disk, or not, whatever the server's default; claims set their
        // own. Set once here, not by each answer: one expression less in the statement.
        try await connection.execute("SET synchronous_commit = \(options.durableAnswers ? "on" : "off")")
        // The claim planned once now, so that the session's first claim finds the table, its
        // indexes and the functions it calls in its caches (EXPLAIN runs nothing).
        try await connection.query("EXPLAIN " + Self.claimStatement, claimParameters(1))
        connections[lane] = connection
        return connection
    }

    private func dropConnection(lane: Int = 0) {
        connections[lane]?.close()
        connections[lane] = nil
    }

    /// Records up to 500 finished jobs whose lease is still this host's, in one statement on
    /// `lane`'s connection: one round trip and one commit per batch, waiting for the disk
    /// unless ``JobQueueWorkerOptions/durableAnswers`` is off (the lane's session setting,
    /// see ``database(lane:)``). Accepted answers are announced on the done channel with
    /// their output inline (see ``JobQueueSchema/notifyDone``). The answers sent wait in
    /// `outcomes` again if it fails, in halves if the server refused them (see ``AnswerBacklog``).
    private func answer(lane: Int) async throws {
        // Taken now: the other lane sends what finishes meanwhile.
        let batch = outcomes.take(limit: 500)
        answering += 1
        defer { answering -= 1 }
        let started = monotonicNanoseconds()
        // Connecting is outside the statement's `do` below: a server that cannot be reached
        // says nothing of the answers, and the batch goes back once (rethrown inside that
        // `do`, the failure was caught again by its `catch`: each answer waited twice, and
        // its second copy was refused).
        let db: PostgresConnection
        do {
            db = try await database(lane: lane)
        } catch {
            outcomes.putBack(batch)
            throw error
        }
        let accepted: Int
        do {
            accepted = batch.count == 1 ? try await record(batch[0], on: db) : try await record(batch, on: db)
        } catch let error as PostgresError where AnswerBacklog.mayBeTheRowsFault(error) {
            // A statement past its time limit is the answers' fault only if the server
            // answers another at once: a server hung for a lease would otherwise have its
            // hosts record `unrecordable` for jobs that succeeded.
            if case .timedOut = error, !(await serverAnswers(lane: lane)) {
                outcomes.putBack(batch)
                throw error
            }
            if let dropped = outcomes.refused(batch, error: error) {
                logger.error("""
                    job queue host: gave up recording job \(dropped.id) (\(dropped.job)), refused \(AnswerBacklog.tries) times \
                    and its failure as often; no longer extended, its lease runs out and it runs again: \(error)
                    """)
            }
            throw error
        } catch {
            outcomes.putBack(batch)
            throw error
        }
        outcomes.sent(batch)
        statementSeconds = (statementSeconds + Double(monotonicNanoseconds() - started) / 1e9) / 2
        refusedAnswers += batch.count - accepted
    }

    /// Whether the server runs a trivial statement on `lane` (its connection made anew if
    /// needed) within the statement time limit.
    private func serverAnswers(lane: Int) async -> Bool {
        do {
            try await database(lane: lane).query("SELECT 1", timeout: statementTimeout)
            return true
        } catch {
            return false
        }
    }

    /// Records `batch` in one statement; returns how many answers the table accepted.
    private func record(_ batch: [AnswerBacklog.Answer], on db: PostgresConnection) async throws -> Int {
        try await db.query("""
            WITH answers AS MATERIALIZED (
                SELECT * FROM unnest($1::bigint[], $2::uuid[], $3::text[], $4::text[], $5::jsonb[], $6::int[])
                    AS answer(id, token, state, result, error, chunk)
            ), done AS (
                -- Rows found by id (the primary key), whatever the statistics say of the
                -- states: planned from them, the join walked every running row once per
                -- answer, unnesting the arrays again each time (20 ms for 83 answers).
                -- No `state = 'running'` test: a row holds a lease token only while it
                -- runs (every statement that ends a run clears it), and with that test
                -- the planner read every running row through the leases index for each
                -- statement, 2-4 rows per answer on a busy host.
                UPDATE sprout_jobs AS job
                SET state = answers.state, result = answers.result, error = answers.error,
                    finished_at = now(), lease_token = NULL, lease_expires_at = NULL
                FROM answers
                WHERE job.id = ANY($1::bigint[]) AND job.id = answers.id AND job.lease_token = answers.token
                RETURNING job.id, job.state, job.result, answers.chunk
            ), announced AS (
                \(JobQueueSchema.notifyDone(chunked: "done"))
            )
            SELECT (SELECT count(*) FROM done)::int FROM announced
            """, [PostgresArrayLiteral.integers(batch.map(\.id)), PostgresArrayLiteral.text(batch.map(\.token)),
                  PostgresArrayLiteral.text(batch.map(\.state)), PostgresArrayLiteral.text(batch.map(\.result)),
                  PostgresArrayLiteral.text(batch.map(\.error)),
                  PostgresArrayLiteral.integers(JobQueueSchema.doneChunks(batch.lazy.map { ($0.id, $0.state, $0.result) }))],
            timeout: statementTimeout).rows.first?[0].int ?? 0
    }

    /// Records one answer, as each job of a quiet queue's round trips is: found by its primary
    /// key and announced without the batch statement's arrays, join and grouping, which for
    /// one answer cost the server more than the update itself. Returns 1 if the table
    /// accepted it, else 0.
    private func record(_ answer: AnswerBacklog.Answer, on db: PostgresConnection) async throws -> Int {
        try await db.query("""
            WITH done AS (
                UPDATE sprout_jobs SET state = $3, result = $4, error = $5::jsonb,
                    finished_at = now(), lease_token = NULL, lease_expires_at = NULL
                WHERE id = $1 AND lease_token = $2::uuid
                RETURNING id, state, result
            )
            SELECT pg_notify('\(JobQueueSchema.doneChannel)', \(JobQueueSchema.doneEntry)) FROM done
            """, [.int(answer.id), .text(answer.token), .text(answer.state), answer.result.map { .text($0) } ?? .null,
                  answer.error.map { .text($0) } ?? .null],
            timeout: statementTimeout).rows.count
    }

    /// Claims up to `count` jobs of the registered types, highest priority first, in one
    /// statement on `lane`'s connection, and hands them to the pool in that order. The claim
    /// commits without waiting for the disk: lost in a server crash, its jobs are simply
    /// available again and its answers refused.
    ///
    /// - Returns: how many jobs were claimed.
    private func claim(_ count: Int, lane: Int) async throws -> Int {
        claiming += count
        defer { claiming -= count }
        let started = monotonicNanoseconds()
        let rows: [PostgresRow]
        do {
            rows = try await database(lane: lane).query(Self.claimStatement, claimParameters(count), timeout: statementTimeout).rows
        } catch {
            // Rolled back: its rows are available again, unannounced.
            owesWakeUp = true
            throw error
        }
        statementSeconds = (statementSeconds + Double(monotonicNanoseconds() - started) / 1e9) / 2
        // Handed to the pool together: each pool process gets its share of the claim in one
        // write, and answers it together (one by one, each job cost a write, a wake-up of a
        // pool process and its answer's read).
        pool.submittingTogether {
            for row in rows {
                guard let id = row[0].int, let name = row[1].string, let payload = row[2].string, let token = row[3].string else { continue }
                // Claimed while the drain began: another host runs it.
                if draining {
                    releases.append((id, token))
                    continue
                }
                start(id: id, token: token, type: jobTypes[name]!, name: name, payload: payload,
                      timeout: row[4].double, retries: row[5].int ?? 0)
            }
        }
        return rows.count
    }

    /// The claim of ``claim(_:lane:)``, with the parameters ``claimParameters(_:)`` gives.
    private static let claimStatement = """
                WITH durability AS (
                    SELECT set_config('synchronous_commit', 'off', true)
                ), picked AS (
                    SELECT id FROM sprout_jobs
                    WHERE state = 'available' AND job_type = ANY($1::text[])
                    ORDER BY priority DESC, id
                    LIMIT $2::int
                    FOR UPDATE SKIP LOCKED
                ), claimed AS (
                    -- One token for the claim's jobs, drawn once (an InitPlan), not per row:
                    -- each draw reads the server's strong random source. A token still names
                    -- one claim of a job: answers, extensions and hand-backs go by id and token.
                    UPDATE sprout_jobs AS job
                    SET state = 'running', attempts = job.attempts + 1, lease_token = (SELECT gen_random_uuid()),
                        lease_expires_at = now() + make_interval(secs => $3::float8), worker = $4, started_at = now()
                    WHERE job.id = ANY(ARRAY(SELECT id FROM picked))
                    RETURNING job.id, job.job_type, job.payload, job.lease_token::text, job.timeout_seconds, job.retries, job.priority
                )
                -- In the order they were picked (RETURNING promises none): the local pool runs
                -- them in the order they are handed to it.
                SELECT claimed.id, claimed.job_type, claimed.payload, claimed.lease_token, claimed.timeout_seconds, claimed.retries
                FROM claimed, durability
                ORDER BY claimed.priority DESC, claimed.id
                """

    /// The claim's parameters for `count` jobs: the registered types, the count, the lease, this host.
    private func claimParameters(_ count: Int) -> [PostgresValue] {
        [PostgresArrayLiteral.text(jobTypes.keys.map { $0 }), .int(count), .double(options.leaseSeconds), .text(options.host)]
    }

    /// Hands the jobs of ``releases`` back to the table (available again, this attempt not
    /// counted: they never started) if their lease is still this host's, and wakes the idle
    /// hosts if any came back or a failed claim left jobs available unannounced.
    private func release(lane: Int) async throws {
        let handedBack = releases
        let announce = owesWakeUp
        releases = []
        owesWakeUp = false
        handingBack = handedBack
        defer { handingBack = [] }
        func putBack() {
            releases.insert(contentsOf: handedBack, at: 0)
            owesWakeUp = owesWakeUp || announce
        }
        // Connecting is outside the statement's `do` below, as in ``answer(lane:)``: a server
        // that cannot be reached (a connect timed out: it hangs) says nothing of the
        // hand-backs, and three such tries must not give them up.
        let db: PostgresConnection
        do {
            db = try await database(lane: lane)
        } catch {
            putBack()
            throw error
        }
        do {
            try await db.query("""
                WITH released AS (
                    UPDATE sprout_jobs AS job
                    SET state = 'available', attempts = job.attempts - 1, lease_token = NULL, lease_expires_at = NULL,
                        worker = NULL, started_at = NULL
                    FROM unnest($1::bigint[], $2::uuid[]) AS held(id, token)
                    WHERE job.id = held.id AND job.lease_token = held.token
                    RETURNING job.id
                )
                SELECT pg_notify('\(JobQueueSchema.availableChannel)', '') WHERE $3::bool OR EXISTS (SELECT 1 FROM released)
                """, [PostgresArrayLiteral.integers(handedBack.map(\.id)), PostgresArrayLiteral.text(handedBack.map(\.token)),
                      .bool(announce)],
                timeout: statementTimeout)
        } catch let error as PostgresError where AnswerBacklog.mayBeTheRowsFault(error) {
            // Past its time limit, the statement is the hand-backs' fault only if the server
            // answers another at once (see ``answer(lane:)``).
            if case .timedOut = error, !(await serverAnswers(lane: lane)) {
                putBack()
                throw error
            }
            releaseRefusals += 1
            guard releaseRefusals >= AnswerBacklog.tries else {
                putBack()
                throw error
            }
            releaseRefusals = 0
            // The jobs' leases run out; the wake-up owed for a failed claim's jobs still goes.
            owesWakeUp = owesWakeUp || announce
            logger.error("job queue host: gave up handing back \(handedBack.count) jobs, refused \(AnswerBacklog.tries) times; no longer extended, their leases run out and they run again: \(error)")
            throw error
        } catch {
            putBack()
            throw error
        }
        releaseRefusals = 0
    }

    /// Cancels the running jobs whose lease is no longer this host's (cancelled, or taken
    /// over after it expired). Runs in a lane while no claim is in flight, so every job this
    /// host has claimed so far is in `running`; a job claimed later cannot have been
    /// cancelled before the listener listened (a cancelled job is never claimed).
    private func cancelWithdrawnJobs() async throws {
        guard !running.isEmpty else { return }
        let held = Array(running)
        let rows = try await database().query("""
            SELECT held.id FROM unnest($1::bigint[], $2::uuid[]) AS held(id, token)
            WHERE NOT EXISTS (SELECT 1 FROM sprout_jobs AS job
                              WHERE job.id = held.id AND job.lease_token = held.token AND job.state = 'running')
            """, [PostgresArrayLiteral.integers(held.map(\.key)), PostgresArrayLiteral.text(held.map(\.value.token))],
            timeout: statementTimeout).rows
        for row in rows {
            if let id = row[0].int { running[id]?.cancel() }
        }
    }

    private func start(id: Int, token: String, type: any ProcessJob.Type, name: String, payload: String, timeout: Double?, retries: Int) {
        let cancel = run(type, name: name, payload: payload, timeout: timeout, retries: retries) { [weak self] outcome in
            self?.record(id: id, token: token, job: name, outcome)
        }
        if let cancel { running[id] = Running(token: token, cancel: cancel) }
    }

    /// Submits the job to the pool; returns how to cancel it, or `nil` if it finished at once
    /// (the pool refused it, or it is undecodable).
    ///
    /// The payload goes to the pool as the table holds it, and the output comes back into the
    /// table as the pool's worker wrote it: both are the JSON ``QueueJSON`` reads and writes
    /// (the pool ``JobQueue/serve(postgres:jobs:processes:options:logger:)`` makes codes with
    /// ``Sprout/JSONProcessCoder``, as ``QueueJSON`` does). Decoding each payload only to encode
    /// it again for the pool, and each output likewise, took about a quarter of a host's time
    /// on tiny jobs, and a big payload held the hub (its heartbeats too) for seconds. An output
    /// of `[UInt8]`, which the pool passes raw, is written as the array of numbers ``QueueJSON``
    /// reads (``QueueJSON/arrayText(_:)``).
    private func run<Job: ProcessJob>(
        _ type: Job.Type, name: String, payload: String, timeout: Double?, retries: Int,
        done: @escaping @Hub @Sendable (Result<String, JobQueueError>) -> Void
    ) -> (() -> Void)? {
        let bytes = Job.Output.self == [UInt8].self
        do {
            return try pool.submitEncoded(Job.self, payload: payload, timeout: timeout, retries: retries) { outcome in
                switch outcome {
                case .success(let output):
                    done(.success(bytes ? QueueJSON.arrayText(output) : String(decoding: output, as: UTF8.self)))
                case .failure(let failed as JobFailed) where failed.errorType == String(reflecting: DecodingError.self):
                    // The worker could not decode the job, or its run() threw a DecodingError:
                    // only the first is `undecodable` (a host running another build), as when
                    // this host decoded every job before submitting it.
                    do {
                        _ = try QueueJSON.decode(Job.self, from: payload)
                        done(.failure(Self.queueError(failed, job: name)))
                    } catch {
                        done(.failure(.undecodable(job: name, message: "\(error)")))
                    }
                case .failure(let error):
                    done(.failure(Self.queueError(error, job: name)))
                }
            }
        } catch {
            done(.failure(.undecodable(job: name, message: "\(error)")))
            return nil
        }
    }

    private static func queueError(_ error: any Error, job: String) -> JobQueueError {
        switch error {
        case let failed as JobFailed: return .failed(job: job, errorType: failed.errorType, message: failed.message)
        case let crashed as WorkerCrashed: return .workerCrashed(job: job, description: crashed.description)
        case let timeout as Timeout: return .timedOut(job: job, seconds: timeout.seconds)
        case is JobCancelled: return .cancelled(job: job)
        default: return .failed(job: job, errorType: String(reflecting: type(of: error)), message: "\(error)")
        }
    }

    private func record(id: Int, token: String, job: String, _ outcome: Result<String, JobQueueError>) {
        guard running.removeValue(forKey: id) != nil || !outcomes.contains(id: id) else { return }
        // Cancelled by the drain before it started (or by its client, whose cancellation
        // already took the lease: then handing it back changes nothing).
        if draining, case .failure(.cancelled) = outcome {
            releases.append((id, token))
            wake.set()
            return
        }
        finishedAt.append(monotonicNanoseconds())
        switch outcome {
        case .success(let json):
            outcomes.append(.init(id: id, token: token, job: job, state: "succeeded", result: json, error: nil))
        case .failure(let error):
            let json = try? QueueJSON.encode(RecordedError(error))
            var state = "failed"
            if case .cancelled = error { state = "cancelled" }
            outcomes.append(.init(id: id, token: token, job: job, state: state, result: nil, error: json))
        }
        wake.set()
    }

    // MARK: - Wake-ups, heartbeats, expired leases

    /// Listens for new jobs and cancellations on a connection of its own, remade when it breaks.
    private func listen() async throws {
        var backoff = Backoff()
        while !stopped {
            do {
                // LISTEN bounded too: a hung server must not hold the wake-ups for ever.
                let listener = try await JobQueue.connection(to: url, statementTimeout: statementTimeout)
                defer { listener.close() }
                try await listener.listen(JobQueueSchema.availableChannel)
                try await listener.listen(JobQueueSchema.cancelChannel)
                // Jobs may have arrived, and running ones been cancelled, while nobody listened.
                listenedSinceCheck = true
                newJobSignals &+= 1
                wake.set()
                backoff.succeeded()
                for try await notification in listener.notificationStream() {
                    if notification.channel == JobQueueSchema.cancelChannel {
                        if let id = Int(notification.payload), let job = running[id] { job.cancel() }
                    } else {
                        newJobSignals &+= 1
                        wake.set()
                    }
                }
            } catch let error as PostgresError {
                if !error.isConnectionFault {
                    logger.warning("job queue host: listening failed, retrying in \(backoff.delay) s: \(error)")
                }
                try await backoff.pause()
            }
        }
    }

    /// Extends this host's leases and re-queues (or fails) jobs whose lease expired on
    /// another host, every third of the lease; prunes old finished rows once a minute.
    private func heartbeat() async throws {
        while !stopped {
            try await sleep(options.leaseSeconds / 3)
            try await beat("extending its leases") { db in
                let held = heldLeases
                guard !held.isEmpty else { return }
                do {
                    try await extend(held, on: db)
                } catch let error as PostgresError where held.count > 1 && !error.isConnectionFault && AnswerBacklog.mayBeTheRowsFault(error) {
                    // One row refused (a trigger's check) must not cost every other job its
                    // lease: each is extended on its own, the refused ones reported.
                    for lease in held {
                        do {
                            try await extend([lease], on: db)
                        } catch let error as PostgresError where !error.isConnectionFault && AnswerBacklog.mayBeTheRowsFault(error) {
                            logger.warning("job queue host: a heartbeat failed extending job \(lease.id)'s lease: \(error)")
                        }
                    }
                }
            }
            try await beat("re-queueing expired leases") { try await reapExpiredLeases($0) }
            if monotonicNanoseconds() - lastPrune > 60_000_000_000 {
                lastPrune = monotonicNanoseconds()
                try await beat("pruning finished jobs") { db in
                    try await db.query("DELETE FROM sprout_jobs WHERE finished_at < now() - make_interval(secs => $1::float8)",
                                       [.double(options.keepFinishedSeconds)], timeout: statementTimeout)
                }
            }
        }
    }

    /// Extends the leases of `held` that are still this host's by a lease from now, in one
    /// statement. A row another statement holds locked is left for the next beat, not waited
    /// for: an answer or hand-back of this host's past its time limit may hold its row in the
    /// server for longer still (a slow trigger: the server does not see the host gave up),
    /// and waiting for it, the extension of every other lease timed out with it — beat after
    /// beat, until the host's running jobs lost their leases.
    private func extend(_ held: [(id: Int, token: String)], on db: PostgresConnection) async throws {
        try await db.query("""
            WITH free AS (
                SELECT id FROM sprout_jobs WHERE id = ANY($2::bigint[]) FOR NO KEY UPDATE SKIP LOCKED
            )
            UPDATE sprout_jobs AS job SET lease_expires_at = now() + make_interval(secs => $1::float8)
            FROM unnest($2::bigint[], $3::uuid[]) AS held(id, token)
            WHERE job.id IN (SELECT id FROM free) AND job.id = held.id AND job.lease_token = held.token
            """, [.double(options.leaseSeconds), PostgresArrayLiteral.integers(held.map(\.id)),
                  PostgresArrayLiteral.text(held.map(\.token))],
            timeout: statementTimeout)
    }

    /// The leases this host holds: its running jobs', its answers' (waiting or being sent)
    /// and those of the jobs it is handing back (waiting or being sent). Only these are extended, by id and token,
    /// not every row naming this host: a row a server crash set back to `running` after its
    /// answer was sent, or one whose outcome the host gave up, is no longer held, and its
    /// lease must run out for the job to run again.
    private var heldLeases: [(id: Int, token: String)] {
        running.map { ($0.key, $0.value.token) } + outcomes.leases + releases + handingBack
    }

    /// One statement of a heartbeat. A failed one is tried again at the next beat, a third of
    /// the lease later (a lease outlives two failed beats), and holds back none of the others:
    /// a host whose lease extensions are refused still re-queues dead hosts' jobs.
    private func beat(_ what: String, _ body: (PostgresConnection) async throws -> Void) async throws {
        do {
            try await body(try await database(lane: Self.heartbeatLane))
        } catch let error as PostgresError {
            if error.isConnectionFault {
                dropConnection(lane: Self.heartbeatLane)
            } else {
                logger.warning("job queue host: a heartbeat failed \(what): \(error)")
            }
        }
    }

    private func reapExpiredLeases(_ db: PostgresConnection) async throws {
        try await db.query("""
            WITH expired AS (
                SELECT id FROM sprout_jobs
                WHERE state = 'running' AND lease_expires_at < now()
                FOR UPDATE SKIP LOCKED
            ), reaped AS (
                UPDATE sprout_jobs AS job
                SET state = CASE WHEN job.attempts < job.max_attempts THEN 'available' ELSE 'failed' END,
                    error = CASE WHEN job.attempts < job.max_attempts THEN NULL
                            ELSE jsonb_build_object('kind', 'leaseExpired', 'job', job.job_type, 'message', '',
                                                    'attempts', job.attempts) END,
                    finished_at = CASE WHEN job.attempts < job.max_attempts THEN NULL ELSE now() END,
                    lease_token = NULL, lease_expires_at = NULL, worker = NULL
                FROM expired WHERE job.id = expired.id
                RETURNING job.id, job.state, job.result
            ), failed AS (
                SELECT * FROM reaped WHERE state = 'failed'
            ), announced AS (
                \(JobQueueSchema.notifyDone(from: "failed"))
            )
            SELECT (SELECT pg_notify('\(JobQueueSchema.availableChannel)', '')
                    WHERE EXISTS (SELECT 1 FROM reaped WHERE state = 'available')),
                   (SELECT sent FROM announced)
            """, timeout: statementTimeout)
    }
}
