import DequeModule
import Glibc
import Logging

/// A supervised pool of worker processes for CPU-heavy jobs — multiprocessing's `Pool` and
/// `ProcessPoolExecutor`, awaited from greenlets without ever blocking the hub.
///
/// Workers are this same program started again (`main` must call
/// ``serveIfWorker(jobs:coder:)`` first thing). Jobs are ``ProcessJob`` values sent over a
/// Unix socket per worker. The pool never breaks: a worker that crashes, exits or is
/// killed fails only the job it was running (with ``WorkerCrashed``) and is replaced;
/// jobs it had not started go back to the queue; cancelling a job skips it if its worker
/// has not reached it, and kills and replaces the worker (SIGTERM, then SIGKILL) if it runs.
///
/// Every job ends exactly one way — its value, its error, ``WorkerCrashed``,
/// ``JobCancelled`` or ``Timeout`` — and runs at most once unless `retries:` asks for more:
/// each worker counts the jobs it starts, and holds back tiny jobs' answers, in shared
/// memory (its ledger), so after a crash the parent knows which jobs ran and still gets
/// the answers of those that finished. Workers killed by a signal before they are ready are restarted
/// with a backoff (10 ms doubling to 100 ms) and fail no job; workers that exit on their own
/// or time out before they are ready, or are refused then (another Sprout version's worker
/// program, a failing initializer), three times in a row fail the waiting jobs with
/// ``ProcessPoolError/workersFailedToStart(attempts:reason:)``, and the next job tries again.
/// The hub's teardown (end of `Hub.run`, Ctrl-C, SIGTERM) terminates the pool's workers.
@Hub
public final class ProcessPool {
    enum State {
        case open
        case closed
        case terminated
    }

    /// The first pause before starting a worker again after one died at start-up.
    static let firstRestartDelay = 0.01
    /// The longest such pause; the pause doubles on each death and resets on a ready worker.
    /// Short enough that a pool whose every new worker is killed (by an OOM killer, an
    /// operator) serves again within a tenth of a second of the last kill, long enough
    /// that such a killer costs at most a few spawns a second per worker.
    static let maxRestartDelay = 0.1
    /// Signals a process gets from its own fault, not from someone else: a worker that
    /// dies of one before its hello crashed at start-up. A program without `serveIfWorker`
    /// does: its `main` runs again in the worker, makes a pool there, and the uncaught
    /// error traps (SIGILL here, SIGTRAP on arm64).
    static let faultSignals: Set<Int32> = [SIGILL, SIGTRAP, SIGABRT, SIGSEGV, SIGBUS, SIGFPE, SIGSYS]
    /// How many times a job may go back to the queue because its worker died before
    /// starting it; then it fails with ``ProcessPoolError/requeuedTooOften(job:attempts:)``.
    /// Generous: a killer that takes every worker as soon as it is ready (200 kills in the
    /// map test) re-queues the next job once per kill, and that is not the job's fault.
    /// A variable so a test can reach it with a few kills.
    var maxRequeues = 1_000

    /// How many workers the pool keeps running.
    public nonisolated let size: Int
    /// How long a cancelled job's worker gets between SIGTERM and SIGKILL.
    public nonisolated let killGrace: Double
    let coder: any ProcessCoder
    /// The largest encoded job or output, in bytes.
    public nonisolated let maxPayloadBytes: Int
    let maxTasksPerWorker: Int?
    /// Receives the pool's reports: each line a worker writes on its standard error
    /// (prefixed with its pid), workers that died and their replacements, start-up failures.
    public nonisolated let logger: Logger
    private let executable: String
    private let environment: [String]
    private let initializer: (name: [UInt8], job: [UInt8])?
    private let startTimeout: Double
    private let start: WorkerStart
    private(set) var workers: [WorkerProcess] = []
    /// Workers being stopped; they take no jobs and hold none.
    private var retiring: [WorkerProcess] = []
    private var pending = Deque<PoolTask>()
    /// Calls of ``submittingTogether(_:)`` under way: jobs submitted meanwhile wait in
    /// `pending` and are dispatched together when the outermost one ends.
    private var togetherDepth = 0
    /// Maps started while the pool was open whose input is not used up. A closed pool still
    /// takes their jobs and keeps its workers for them, as `Pool.close` after `map_async`
    /// still runs the whole map.
    private var feedingMaps: [ObjectIdentifier: FeedingMap] = [:]
    private(set) var state = State.open
    private(set) var served: Set<String> = []
    /// Workers that exited on their own or timed out before they were ready, in a row.
    private var startFailures = 0
    /// Seconds to wait before the next worker start (0 while workers start fine).
    private var restartDelay = 0.0
    private var restartTimer: HubTimer?
    /// Set when workers keep failing at start-up: waiting jobs failed with it, and no worker
    /// is started until the next job comes.
    private var startError: ProcessPoolError?
    private var waiters: [Waiter<Void>] = []
    private var nextID: UInt64 = 1
    private var jobNames: [ObjectIdentifier: (String, [UInt8])] = [:]
    private var shutdownHook: ShutdownHook?
    /// True from the start of the workers until the pool has ended: a fork server keeps its
    /// spare while some pool of its program does (``ForkServerConnection/poolStarted(executable:)``).
    private var countsForSpares = false
    /// Average seconds per job recently, to decide whether workers may queue a second batch.
    private(set) var meanTaskSeconds = Double.infinity
    /// Chunk frames (``FrameKind/jobChunk``) sent so far, for tests that check a map used them.
    private(set) var chunkFramesSent = 0
    /// Every worker pid this pool started, for tests that check none is left behind.
    var spawnedPIDs: [Int32] { spawned.map(\.pid).filter { $0 > 0 } }
    /// Every worker process this pool started (a fork server's answer gives its pid later).
    private var spawned: [any WorkerChild] = []

    /// Starts `workers` worker processes in parallel and returns once all are ready.
    ///
    /// - Parameters:
    ///   - workers: how many; the number of CPUs when `nil`.
    ///   - executable: the worker program; this program (`/proc/self/exe`) when `nil`.
    ///   - maxTasksPerWorker: replace a worker after it ran this many jobs (leaky jobs).
    ///   - initializer: a job every worker runs once before any other.
    ///   - coder: how jobs and results are encoded; must match the workers'.
    ///   - killGrace: seconds between SIGTERM and SIGKILL when a running job is cancelled.
    ///   - startTimeout: seconds a worker may take to become ready.
    ///   - start: how workers are started (forked from the fork server when this program
    ///     has one, by default).
    ///   - maxPayloadBytes: the largest encoded job (``submit(_:timeout:retries:)-(_,Double?,_)`` throws
    ///     ``ProcessPoolError/jobTooLarge(job:bytes:limit:)`` before sending) and the largest
    ///     encoded output (the job fails with ``JobOutputTooLarge``); at most 1 GiB.
    ///   - logger: where the pool reports (see ``logger``); `Logger(label: "sprout.pool")`
    ///     when `nil`.
    /// In a pool worker whose program has not called ``serveIfWorker(jobs:coder:)`` (its main
    /// runs again and makes this pool), the worker ends at once with exit status 78 and one
    /// line on stderr, so the parent's waiting jobs fail with
    /// ``ProcessPoolError/workersFailedToStart(attempts:reason:)`` quickly.
    ///
    /// - Throws: ``ProcessPoolError/insideWorker`` inside a job that a worker runs;
    ///   ``ProcessPoolError/workersFailedToStart(attempts:reason:)`` if workers keep failing
    ///   to start; ``HubError`` if no process can be started; `CancellationError` if the
    ///   calling greenlet is killed while waiting.
    public init(
        workers: Int? = nil,
        executable: String? = nil,
        maxTasksPerWorker: Int? = nil,
        initializer: (any ProcessJob)? = nil,
        coder: any ProcessCoder = JSONProcessCoder(),
        killGrace: Double = 1,
        startTimeout: Double = 10,
        start: WorkerStart = .automatic,
        maxPayloadBytes: Int = 1 << 30,
        logger: Logger? = nil
    ) async throws {
        WorkerEnvironment.exitIfNotServing()
        if WorkerEnvironment.workerChannel != nil { throw ProcessPoolError.insideWorker }
        self.logger = logger ?? Logger(label: HubLogger.poolLabel)
        size = max(1, workers ?? ProcessPool.cpuCount)
        self.executable = executable ?? ProcessPool.currentExecutable
        self.maxTasksPerWorker = maxTasksPerWorker.map { max(1, $0) }
        self.coder = coder
        self.killGrace = killGrace
        self.startTimeout = startTimeout
        self.start = start
        self.maxPayloadBytes = min(max(maxPayloadBytes, 64), Frame.maxPayload)
        environment = ProcessPool.workerEnvironment() + ["\(WorkerEnvironment.outputLimitMarker)=\(self.maxPayloadBytes)"]
        if let initializer {
            let encoded: [UInt8]
            do {
                encoded = try coder.encode(initializer)
            } catch {
                throw ProcessPoolError.coding(job: String(describing: initializer), detail: "\(error)")
            }
            let name = Array(type(of: initializer).jobName.utf8)
            guard name.count <= Int(UInt16.max), Frame.jobOverhead + name.count + encoded.count <= self.maxPayloadBytes else {
                throw ProcessPoolError.jobTooLarge(job: type(of: initializer).jobName,
                                                   bytes: Frame.jobOverhead + name.count + encoded.count, limit: self.maxPayloadBytes)
            }
            self.initializer = (name, encoded)
        } else {
            self.initializer = nil
        }
        if start != .spawn {
            countsForSpares = true
            ForkServerConnection.poolStarted(executable: self.executable)
        }
        for _ in 0..<size { try startWorker() }
        shutdownHook = Hub.onShutdown { [weak self] in await self?.terminate() }
        try await waitUntil { pool in
            if let error = pool.startError { throw error }
            return pool.workers.count == pool.size && pool.workers.allSatisfy(\.isServing)
        }
    }

    // A pool dropped without shutdown() must not leave its workers running, nor a job it
    // had not finished waiting for ever: such a job fails as `terminate()` fails it. (Its
    // handle and task also hold each other until the task is done: left unfinished, both
    // outlived the pool, which LeakSanitizer reported after a Ctrl-C.)
    isolated deinit {
        if let restartTimer { Hub.cancelTimer(restartTimer) }
        for task in pending { task.fail { JobCancelled(job: $0) } }
        for worker in workers + retiring {
            for task in worker.takeOutstanding() { task.fail { JobCancelled(job: $0) } }
            worker.kill()
        }
        if let shutdownHook { Hub.removeShutdownHook(shutdownHook) }
        _ = endCountingForSpares()
    }

    /// The number of CPUs this process may run on — its affinity mask (`taskset`), limited
    /// by a cgroup CPU quota (a container's `--cpus`), rounded up; at least 1. The default
    /// pool size, so a pool in a container is not oversubscribed.
    public nonisolated static var cpuCount: Int {
        AvailableCPUs.count
    }

    /// The pids of the workers running now; a worker a fork server is still forking is
    /// listed once its pid is known.
    public var workerPIDs: [Int32] { workers.map(\.pid).filter { $0 > 0 } }

    // MARK: Submitting

    /// Queues `job` and returns its handle at once — `ProcessPoolExecutor.submit`,
    /// `Pool.apply_async`.
    ///
    /// - Parameters:
    ///   - job: the job; its type must be registered with the workers.
    ///   - timeout: cancel the job (killing its worker if it runs) after this many seconds;
    ///     it then fails with ``Timeout``.
    ///   - retries: how many times a crash of its worker re-queues the job before it fails
    ///     with ``WorkerCrashed``.
    /// - Throws: ``ProcessPoolError/unregisteredJob(_:served:)``, ``ProcessPoolError/closed``,
    ///   ``ProcessPoolError/coding(job:detail:)``, ``ProcessPoolError/jobTooLarge(job:bytes:limit:)``
    ///   — before anything is sent.
    public func submit<Job: ProcessJob>(_ job: Job, timeout: Double? = nil, retries: Int = 0) throws -> JobHandle<Job.Output> {
        let handle = JobHandle<Job.Output>()
        let coder = self.coder
        let task = try makeTask(job, retries: retries) { outcome in
            deliverOutput(outcome, of: Job.self, coder: coder) { handle.finish($0) }
        }
        handle.task = task
        if let timeout { cancel(task, after: timeout) }
        enqueue([task])
        return handle
    }

    /// Cancels `task` with ``Timeout`` once `seconds` have passed, unless it is done by then.
    private func cancel(_ task: PoolTask, after seconds: Double) {
        task.deadline = Hub.schedule(after: seconds) { [weak self, weak task] in
            guard let self, let task else { return }
            task.deadline = nil
            self.cancel(task, with: Timeout(seconds: seconds))
        }
    }

    /// Queues a `Job` already encoded with this pool's coder (`payload` is the text of the bytes
    /// its `encode` gives: ``JSONProcessCoder``'s JSON) and sends those bytes as they are, for
    /// callers that hold jobs encoded (a job queue's host reads them from a table) and would
    /// otherwise decode each only to encode it again. `done` is called on the hub with the
    /// encoded output, not decoded: a result this pool's coder could not decode as `Job.Output`
    /// is passed on too, and its worker is kept. Failures are those of ``submit(_:timeout:retries:)``
    /// (a job the worker cannot decode fails there, with ``JobFailed``). A job sent this way carries
    /// no descriptors. Returns how to cancel it (as ``JobHandle/cancel()`` does).
    ///
    /// - Throws: ``ProcessPoolError/unregisteredJob(_:served:)``, ``ProcessPoolError/closed``,
    ///   ``ProcessPoolError/jobTooLarge(job:bytes:limit:)`` — before anything is sent.
    package func submitEncoded<Job: ProcessJob>(
        _ type: Job.Type, payload: String, timeout: Double?, retries: Int,
        done: @escaping @Hub (Result<ArraySlice<UInt8>, any Error>) -> Void
    ) throws(ProcessPoolError) -> @Hub () -> Void {
        try checkTakesJobs(from: nil)
        let (name, utf8) = jobName(Job.self)
        guard served.contains(name) else { throw ProcessPoolError.unregisteredJob(name, served: served.sorted()) }
        let bytes = Frame.jobOverhead + utf8.count + payload.utf8.count
        guard utf8.count <= Int(UInt16.max), bytes <= maxPayloadBytes else {
            throw ProcessPoolError.jobTooLarge(job: name, bytes: bytes, limit: maxPayloadBytes)
        }
        let task = PoolTask(id: nextID, name: utf8, payload: Array(payload.utf8)[...], job: payload, retries: retries) {
            done($0)
            return true
        }
        task.pool = self
        nextID += 1
        if let timeout { cancel(task, after: timeout) }
        enqueue([task])
        // The task held strongly, as a handle holds its own (a weak reference costs it a side table).
        return {
            Hub.later {
                guard let pool = task.pool else { return }
                pool.cancel(task, with: JobCancelled(job: task.jobDescription))
            }
        }
    }

    /// Runs `job` in a worker and returns its output — `Pool.apply`.
    ///
    /// If the calling greenlet is killed, or `timeout` passes, the job is cancelled (its
    /// worker killed and replaced if it was running).
    ///
    /// - Throws: the job's error as ``JobFailed``; ``WorkerCrashed`` if its worker died;
    ///   ``Timeout``; ``ProcessPoolError``; `CancellationError` if the caller is killed.
    public func run<Job: ProcessJob>(_ job: Job, timeout: Double? = nil, retries: Int = 0) async throws -> Job.Output {
        let handle = try submit(job, timeout: timeout, retries: retries)
        do {
            return try await handle.get(timeout: nil)
        } catch is CancellationError where !handle.isReady {
            handle.cancel()
            throw CancellationError()
        }
    }

    func makeTask<Job: ProcessJob>(_ job: Job, retries: Int, for map: (any MapSink)? = nil,
                                   complete: @escaping (Result<ArraySlice<UInt8>, any Error>) -> Bool) throws -> PoolTask {
        try checkTakesJobs(from: map)
        let (name, utf8) = jobName(Job.self)
        guard served.contains(name) else { throw ProcessPoolError.unregisteredJob(name, served: served.sorted()) }
        let (payload, descriptors) = try encodeJob(job, name: utf8.count, coder: coder, limit: maxPayloadBytes)
        let task = PoolTask(id: nextID, name: utf8, payload: payload[...], job: job, retries: retries, complete: complete)
        task.descriptors = descriptors
        task.pool = self
        nextID += 1
        return task
    }

    /// The tasks for a map's chunk of `jobs`, `jobs[i]` being the map's job `first + i`:
    /// encoded with one call of the coder into one buffer, and one task for the whole chunk
    /// (or for each run of it between jobs too large to send). A job that cannot be made is
    /// handed to `failed` with its error: the pool is closed or the type unregistered (every
    /// job), or it is too large or cannot be encoded (that job alone). Jobs that carry
    /// descriptors get a task each, which tells whose descriptors are whose.
    func makeTasks<Job: ProcessJob>(_ jobs: [Job], for sink: any MapSink, from first: Int,
                                    failed: (Int, any Error) -> Void) -> [PoolTask] {
        let (name, utf8) = jobName(Job.self)
        do {
            try checkTakesJobs(from: sink)
            guard served.contains(name) else { throw ProcessPoolError.unregisteredJob(name, served: served.sorted()) }
        } catch {
            for index in jobs.indices { failed(first + index, error) }
            return []
        }
        let collector = DescriptorCollector()
        var bytes: [UInt8] = []
        let ranges = try? DescriptorTransfer.$outgoing.withValue(collector) { try coder.encode(each: jobs, into: &bytes) }
        guard let ranges, ranges.count == jobs.count, collector.fds.isEmpty, utf8.count <= Int(UInt16.max) else {
            // Jobs that carry descriptors, or one that does not encode: each is encoded alone,
            // which tells whose descriptors are whose and fails only the job at fault.
            for fd in collector.fds { Glibc.close(fd) }
            var tasks: [PoolTask] = []
            for index in jobs.indices {
                do {
                    tasks.append(try makeTask(jobs[index], retries: 0, for: sink) { [weak sink] in sink?.received(first + index, $0) ?? true })
                } catch {
                    failed(first + index, error)
                }
            }
            return tasks
        }
        let chunk = bytes[...]
        let describe = { [jobs] (offset: Int) in PoolTask.describe(jobs[offset]) }
        var tasks: [PoolTask] = []
        var runStart = 0
        func endRun(at end: Int) {
            guard end > runStart else { return }
            tasks.append(PoolTask(chunkID: nextID, name: utf8, payload: chunk, ranges: ranges, items: runStart..<end,
                                  sink: sink, index: first + runStart, describe: describe))
            nextID += UInt64(end - runStart)
        }
        for (index, range) in ranges.enumerated() {
            let size = Frame.jobOverhead + utf8.count + range.count
            if size > maxPayloadBytes {
                endRun(at: index)
                runStart = index + 1
                failed(first + index, ProcessPoolError.jobTooLarge(job: name, bytes: size, limit: maxPayloadBytes))
            }
        }
        endRun(at: ranges.count)
        return tasks
    }

    /// A job type's name and its UTF-8 bytes, worked out once per type (the default
    /// `jobName` reflects on the type, which costs more than a small job's round trip).
    private func jobName<Job: ProcessJob>(_ type: Job.Type) -> (String, [UInt8]) {
        if let known = jobNames[ObjectIdentifier(type)] { return known }
        let name = Job.jobName
        jobNames[ObjectIdentifier(type)] = (name, Array(name.utf8))
        return (name, Array(name.utf8))
    }

    /// Queues tasks as one batch (they go to one worker together) and dispatches.
    func enqueue(_ tasks: [PoolTask]) {
        enqueue(batches: [tasks])
    }

    /// Queues several batches and dispatches once, so their frames share writes.
    func enqueue(batches: [[PoolTask]]) {
        if startError != nil {
            // Workers failed at start-up and the jobs waiting then failed; a new job tries again.
            startError = nil
            replaceIfNeeded()
        }
        for tasks in batches {
            for (index, task) in tasks.enumerated() {
                task.endsBatch = index == tasks.count - 1
                pending.append(task)
            }
        }
        if togetherDepth == 0 { dispatch() }
    }

    /// Runs `body`, dispatching the jobs it submits once, when it returns (or throws), not one
    /// by one: a worker's jobs go in one write and it answers them together, where jobs
    /// submitted one by one cost a write and a wake-up of a worker each, and it answered each
    /// alone. Each job keeps its own handle, timeout and retries.
    package func submittingTogether<T>(_ body: () throws -> T) rethrows -> T {
        togetherDepth += 1
        defer {
            togetherDepth -= 1
            if togetherDepth == 0 { dispatch() }
        }
        return try body()
    }

    /// Cancels `task`: dropped if queued; sent to a worker that has not reached it, skipped
    /// there; if its worker has started it, the worker is killed (SIGTERM, grace, SIGKILL)
    /// and replaced, and its other tasks are settled when it has exited (answers it wrote
    /// or held back still arrive; the jobs it never started go back to the queue).
    func cancel(_ task: PoolTask, with error: any Error) {
        guard !task.isDone else { return }
        task.finish(.failure(error))
        for worker in workers {
            guard let position = worker.position(of: task) else { continue }
            guard worker.withdraw(task, at: position) else { return }
            retire(worker, kill: true)
            replaceIfNeeded()
            dispatch()
            return
        }
    }

    /// Tells every worker to skip the jobs it holds that have ended without running (an
    /// abandoned map's), so a map's chunks stop within a job, not a chunk.
    func skipEndedJobs() {
        for worker in workers { worker.skipEnded() }
    }

    // MARK: Dispatching

    /// How many tiny jobs a worker may hold at once, so it never waits for the next one
    /// and one write carries many frames.
    static let tinyJobPrefetch = 256

    /// Gives queued batches to workers: first one to every idle worker, then — while jobs
    /// are tiny — more, each to the worker holding the fewest jobs, up to
    /// ``tinyJobPrefetch`` jobs, so no worker waits for its next job and none takes the
    /// whole queue.
    private func dispatch() {
        guard !pending.isEmpty else { return }
        let ready = workers.filter(\.takesJobs)
        for worker in ready where worker.batches == 0 {
            guard assignBatch(to: worker) else { break }
        }
        if meanTaskSeconds < 0.001 {
            // The fewest first, not each in turn from the first: jobs submitted one by one
            // dispatch one at a time, and in turn from the first gave all of them to it (12
            // long jobs submitted after a map of tiny ones ran 11 on one worker of two).
            // Two batches each at least, so a worker has the next chunk of a map at hand.
            var candidates = ready
            while !pending.isEmpty {
                candidates.removeAll { $0.outstandingItems >= Self.tinyJobPrefetch && $0.batches >= 2 }
                guard let worker = candidates.min(by: { $0.outstandingItems < $1.outstandingItems }) else { break }
                if !assignBatch(to: worker) { candidates.removeAll { $0 === worker } }
            }
        }
        for worker in ready { worker.sendAssigned() }
    }

    /// Gives `worker` the next queued batch, cut short by its `maxTasksPerWorker` budget
    /// (counted in jobs: a chunk that does not fit is split); returns whether it got one.
    private func assignBatch(to worker: WorkerProcess) -> Bool {
        var budget = Int.max
        if let maxTasksPerWorker {
            budget = maxTasksPerWorker - worker.tasksDone - worker.outstandingItems
            if budget <= 0 { return false }
        }
        var batch: [PoolTask] = []
        while let task = pending.popFirst() {
            if task.isDone {
                // A cancelled task ending the batch ends it; before any live one, the next
                // batch is taken instead.
                if task.endsBatch && !batch.isEmpty { break }
                continue
            }
            if task.remaining > budget {
                pending.prepend(task.split(keeping: budget))
            }
            batch.append(task)
            budget -= task.remaining
            if task.endsBatch { break }
            if budget == 0 {
                task.endsBatch = true
                break
            }
        }
        guard !batch.isEmpty else { return false }
        batch[batch.count - 1].endsBatch = true
        chunkFramesSent += worker.assign(batch, frameLimit: maxPayloadBytes)
        return true
    }

    private func requeue(_ tasks: [PoolTask]) {
        let live = tasks.filter { !$0.isDone }
        guard !live.isEmpty else { return }
        for task in live { task.endsBatch = false }
        live[live.count - 1].endsBatch = true
        pending.prepend(contentsOf: live)
    }

    // MARK: Workers

    private func startWorker() throws {
        let worker = try WorkerProcess(
            executable: executable,
            environment: environment,
            start: start,
            startTimeout: startTimeout,
            initializer: initializer,
            coder: coder,
            logger: logger,
            onEvent: { [weak self] worker, event in self?.handle(event, from: worker) },
            afterFrames: { [weak self] in
                // Once per read, not per answer: new frames for many answers share a write.
                self?.dispatch()
                self?.wakeWaiters()
            },
            onExit: { [weak self] worker, status in self?.exited(worker, status: status) }
        )
        spawned.append(worker.child)
        workers.append(worker)
    }

    private func handle(_ event: WorkerProcess.Event, from worker: WorkerProcess) {
        switch event {
        case .ready(let jobs):
            served = Set(jobs)
            becameReady(worker)
        case .answered(let task, let kind, let payload, let seconds):
            settle(task, kind: kind, payload: payload, seconds: seconds, from: worker)
            afterAnswers(from: worker)
        case .answeredItems(let count, let seconds):
            // n updates of the moving average at once.
            let kept = pow(0.9, Double(count))
            meanTaskSeconds = meanTaskSeconds.isFinite ? meanTaskSeconds * kept + seconds * (1 - kept) : seconds
            afterAnswers(from: worker)
        }
    }

    /// Ends `task` with its worker's answer.
    private func settle(_ task: PoolTask, kind: FrameKind, payload: ArraySlice<UInt8>, seconds: Double, from worker: WorkerProcess) {
        meanTaskSeconds = meanTaskSeconds.isFinite ? meanTaskSeconds * 0.9 + seconds * 0.1 : seconds
        if kind == .result {
            // A result that does not decode means the worker's bytes cannot be trusted.
            if !task.finish(.success(payload)) { worker.discard() }
        } else {
            task.finish(.failure(JobFailed.decode(payload, job: task.jobDescription, coder: coder)))
        }
    }

    /// Retires a worker whose answers used up its `maxTasksPerWorker`, or that has nothing
    /// left to do in a closed pool.
    private func afterAnswers(from worker: WorkerProcess) {
        // A worker being stopped only settles the jobs it had.
        guard worker.isServing else { return }
        if let maxTasksPerWorker, worker.tasksDone >= maxTasksPerWorker {
            retire(worker, kill: false)
            replaceIfNeeded()
        } else if worker.outstanding.isEmpty, case .closed = state, !hasWorkComing {
            retire(worker, kill: false)
        }
    }

    private func becameReady(_ worker: WorkerProcess) {
        startFailures = 0
        restartDelay = 0
        if case .closed = state, !hasWorkComing {
            retire(worker, kill: false)
        }
        dispatch()
        wakeWaiters()
    }

    private func exited(_ worker: WorkerProcess, status: ExitStatus) {
        let unexpected = workers.contains { $0 === worker }
        let held = worker.outstandingItems
        workers.removeAll { $0 === worker }
        retiring.removeAll { $0 === worker }
        if worker.diedIn == .starting { diedStarting(worker, status: status) }
        settle(worker, status: status)
        let before = Set(workers.map(ObjectIdentifier.init))
        replaceIfNeeded()
        if unexpected {
            reportDeath(of: worker, status: status, held: held, replacements: workers.filter { !before.contains(ObjectIdentifier($0)) })
        }
        dispatch()
        wakeWaiters()
    }

    /// One report per worker that died while the pool still wanted it.
    private func reportDeath(of worker: WorkerProcess, status: ExitStatus, held: Int, replacements: [WorkerProcess]) {
        let when = worker.diedIn == .starting ? "before it was ready" : "holding \(held) job(s)"
        let next: String
        if let replacement = replacements.first {
            next = replacement.pid > 0 ? "replaced by worker \(replacement.pid)" : "a replacement is being forked"
        } else if restartTimer != nil {
            next = "a replacement starts in \(restartDelay) s (workers keep dying at start-up)"
        } else {
            next = "not replaced"
        }
        logger.warning("worker \(worker.pid) ended (\(status)) \(when); \(next)", metadata: ["pid": "\(worker.pid)"])
    }

    /// Counts a worker that died before it was ready. Killed by a signal someone sent it
    /// only slows the next start; exiting on its own, crashing (``faultSignals``) or timing
    /// out, three times in a row, it means the program cannot serve (no `serveIfWorker`, a
    /// crash at start): the waiting jobs fail.
    private func diedStarting(_ worker: WorkerProcess, status: ExitStatus) {
        restartDelay = min(Self.maxRestartDelay, max(Self.firstRestartDelay, restartDelay * 2))
        if case .signaled(let signal) = status, worker.startFailure == nil, !Self.faultSignals.contains(signal) { return }
        startFailures += 1
        guard startFailures >= 3 else { return }
        // Only a worker that ended before its hello may be the program without serveIfWorker
        // (the one refused at its hello did say it); a start that timed out says so itself.
        let reason = worker.startFailure ?? "pid \(worker.pid) ended with \(status) before it was ready"
            + " (\(ProcessPoolError.serveIfWorkerHint))"
            + (worker.stderrText.isEmpty ? "" : "; its stderr ended with:\n\(worker.stderrText)")
        giveUpStarting(.workersFailedToStart(attempts: startFailures, reason: reason))
        startFailures = 0
    }

    /// Fails the waiting jobs with `error` and starts no worker until the next job comes.
    private func giveUpStarting(_ error: ProcessPoolError) {
        logger.error("\(error)")
        startError = error
        for task in exchange(&pending, with: []) { task.fail { _ in error } }
        wakeWaiters()
    }

    /// Ends or re-queues the jobs a dead worker held, a chunk's items one by one. Those it
    /// had started (its counter in shared memory says how many, from the oldest) ran at
    /// least in part: they fail with ``WorkerCrashed`` — or the protocol violation it was
    /// killed for — unless their `retries` allow another run. Those it had not started go
    /// back to the queue (a chunk with its items not started).
    private func settle(_ worker: WorkerProcess, status: ExitStatus) {
        var started = worker.startedUnanswered
        let tasks = worker.takeOutstanding()
        var requeued: [PoolTask] = []
        for task in tasks {
            // The items the worker had not answered, oldest first; answers were read in order.
            let unanswered = task.end - task.cursor
            var startedHere = min(started, unanswered)
            started -= startedHere
            while startedHere > 0 && !task.isDone {
                startedHere -= 1
                if let violation = worker.violation {
                    task.failNext { ProcessPoolError.protocolViolation(pid: worker.pid, job: $0, detail: violation.description) }
                } else if task.retriesLeft > 0 {
                    task.retriesLeft -= 1
                    requeued.append(task)
                    startedHere = 0
                } else {
                    task.failNext { WorkerCrashed(pid: worker.pid, status: status, job: $0, stderrTail: worker.stderrText) }
                }
            }
            guard !task.isDone, requeued.last !== task else { continue }
            task.requeues += 1
            if task.requeues > maxRequeues {
                task.fail { ProcessPoolError.requeuedTooOften(job: $0, attempts: task.requeues) }
            } else {
                requeued.append(task)
            }
        }
        requeue(requeued)
    }

    /// Starts workers until the pool has `size` again — after the backoff pause when workers
    /// died at start-up — unless it is winding down or gave up starting them.
    private func replaceIfNeeded() {
        switch state {
        case .open: break
        case .closed: if !hasWorkComing { return }
        case .terminated: return
        }
        guard startError == nil, restartTimer == nil, workers.count < size else { return }
        guard restartDelay > 0 else {
            startMissingWorkers()
            return
        }
        restartTimer = Hub.schedule(after: restartDelay) { [weak self] in
            guard let self else { return }
            self.restartTimer = nil
            self.startMissingWorkers()
            self.wakeWaiters()
        }
    }

    private func startMissingWorkers() {
        switch state {
        case .open: break
        case .closed: if !hasWorkComing { return }
        case .terminated: return
        }
        guard startError == nil else { return }
        while workers.count < size {
            do {
                try startWorker()
            } catch {
                giveUpStarting(.workersFailedToStart(attempts: 1, reason: "\(error)"))
                return
            }
        }
    }

    /// Stops `worker`: closing its channel lets it finish and exit; `kill` sends SIGTERM
    /// and, after the grace period, SIGKILL, and keeps the channel open until the worker has
    /// exited, so the answers it wrote before still arrive.
    private func retire(_ worker: WorkerProcess, kill: Bool) {
        workers.removeAll { $0 === worker }
        if !retiring.contains(where: { $0 === worker }) { retiring.append(worker) }
        worker.drain()
        if kill {
            worker.terminate(grace: killGrace)
        } else {
            worker.closeChannel()
            // A worker that ignores end-of-file is not left behind.
            worker.terminate(grace: 5)
        }
    }

    // MARK: Waiting

    /// Parks the calling greenlet until `condition` holds; it is checked whenever the pool
    /// changes.
    func waitUntil(timeout: Double? = nil, _ condition: (ProcessPool) throws -> Bool) async throws {
        let deadline = Deadline(timeout: timeout)
        while try !condition(self) {
            // A condition that throws ends the wait, and the loop rethrows it.
            let woken = try await parkUnlessReady(
                timeout: deadline?.secondsLeft,
                ready: { (try? condition(self)) != false },
                enlist: { waiters.append($0) },
                abandoned: { waiters.removeAll { !$0.isWaiting } }
            )
            if !woken { throw Timeout(seconds: timeout ?? 0) }
        }
    }

    private func wakeWaiters() {
        guard !waiters.isEmpty else { return }
        let woken = waiters
        waiters = []
        for waiter in woken { waiter.wake() }
    }

    // MARK: Ending

    /// Takes no more jobs; queued and running ones still finish, then the workers exit —
    /// `Pool.close`.
    ///
    /// A map started before (``map(_:chunkSize:progress:)``, ``mapAsync(_:chunkSize:progress:)``,
    /// ``imap(_:chunkSize:progress:)`` and the others) still runs every one of its jobs: from
    /// now on it pulls the rest of its input without waiting for its reader, so ``join()``
    /// returns once it is done (an endless input never lets it return, as with
    /// multiprocessing). Maps and submits made after `close()` throw ``ProcessPoolError/closed``.
    public func close() {
        guard case .open = state else { return }
        state = .closed
        for map in feedingMaps.values { map.sink?.poolClosed() }
        retireIdleWorkersIfDone()
        wakeWaiters()
    }

    /// In a closed pool with nothing more to run, retires the workers that are idle (the
    /// others retire as their last answers come).
    private func retireIdleWorkersIfDone() {
        guard case .closed = state, !hasWorkComing else { return }
        for worker in workers where worker.outstanding.isEmpty { retire(worker, kill: false) }
    }

    /// Whether jobs are queued or may still come from a map started before ``close()``.
    /// A queued task that has ended (cancelled, or an abandoned map's) is no work: it stays
    /// queued until dispatch drops it, and counted it would keep a closed pool's idle
    /// workers — and its ``join()`` — waiting for ever.
    private var hasWorkComing: Bool {
        pending.contains { !$0.isDone } || feedingMaps.values.contains { $0.sink != nil }
    }

    /// Registers a map that starts now, so a later ``close()`` still takes its jobs; a map
    /// started in a closed pool is not registered, and its jobs fail with
    /// ``ProcessPoolError/closed``.
    func mapStartedFeeding(_ map: any MapSink) {
        guard case .open = state else { return }
        feedingMaps[ObjectIdentifier(map)] = FeedingMap(sink: map)
    }

    /// A map's input is used up or abandoned: a closed pool with nothing else to run lets its
    /// idle workers go.
    func mapStoppedFeeding(_ map: any MapSink) {
        guard feedingMaps.removeValue(forKey: ObjectIdentifier(map)) != nil else { return }
        retireIdleWorkersIfDone()
        wakeWaiters()
    }

    /// Throws ``ProcessPoolError/closed`` unless the pool takes new jobs, or — closed — the
    /// jobs of `map`, started before ``close()``.
    private func checkTakesJobs(from map: (any MapSink)?) throws(ProcessPoolError) {
        switch state {
        case .open: return
        case .closed: if let map, feedingMaps[ObjectIdentifier(map)] != nil { return }
        case .terminated: break
        }
        throw ProcessPoolError.closed
    }

    /// Waits until a closed pool has finished its jobs and every worker has exited —
    /// `Pool.join`.
    ///
    /// - Throws: ``ProcessPoolError/stillOpen`` if the pool was not closed; `CancellationError`
    ///   if the calling greenlet is killed.
    public func join() async throws {
        if case .open = state { throw ProcessPoolError.stillOpen }
        // A restart due after workers died at start-up still runs the queued jobs: returning
        // before it would leave them running after join() and the worker it starts
        // unaccounted for by the pool's end (its fork server would fork a spare no one drops).
        try await waitUntil { $0.workers.isEmpty && $0.retiring.isEmpty && $0.restartTimer == nil }
        removeHook()
        do {
            try await waitUntilReaped(endCountingForSpares())
        } catch is Timeout {}
    }

    /// Closes the pool and, when `wait` is true, waits for its jobs and workers to finish —
    /// `ProcessPoolExecutor.shutdown`. With `cancelPending`, jobs that have not started fail
    /// with ``JobCancelled``: those queued here and the single jobs already sent to a worker
    /// that has not reached them (it skips them); running ones still finish, and so do the
    /// items of a map's chunk that a worker holds.
    ///
    /// - Throws: `CancellationError` if the calling greenlet is killed while waiting.
    public func shutdown(wait: Bool = true, cancelPending: Bool = false) async throws {
        if cancelPending {
            for task in exchange(&pending, with: []) { task.fail { JobCancelled(job: $0) } }
            for worker in workers {
                for task in worker.withdrawUnstarted() { task.fail { JobCancelled(job: $0) } }
            }
            for map in feedingMaps.values { map.sink?.abandon() }
        }
        close()
        if wait { try await join() }
    }

    /// Stops every worker now (SIGTERM, then SIGKILL after the grace period), fails queued
    /// and running jobs with ``JobCancelled`` and waits for the workers to exit —
    /// `Pool.terminate`. The hub's teardown calls this for pools still running.
    public func terminate() async {
        switch state {
        case .terminated: break
        default:
            state = .terminated
            if let restartTimer { Hub.cancelTimer(restartTimer) }
            restartTimer = nil
            for task in exchange(&pending, with: []) { task.fail { JobCancelled(job: $0) } }
            for worker in workers + retiring {
                for task in worker.takeOutstanding() { task.fail { JobCancelled(job: $0) } }
                retire(worker, kill: true)
            }
        }
        try? await waitUntil(timeout: killGrace + 5) { $0.retiring.isEmpty && $0.workers.isEmpty }
        removeHook()
        try? await waitUntilReaped(endCountingForSpares())
    }

    private func removeHook() {
        if let shutdownHook { Hub.removeShutdownHook(shutdownHook) }
        shutdownHook = nil
    }

    /// The pool starts no more workers: its fork server needs no spare for it. Returns the
    /// spares killed because it was the program's last pool (``ForkServerConnection/poolEnded(executable:)``).
    private func endCountingForSpares() -> [ForkedChild] {
        guard countsForSpares else { return [] }
        countsForSpares = false
        return ForkServerConnection.poolEnded(executable: executable)
    }

    /// Waits until `spares`, SIGKILLed, have been reaped: the last pool's end leaves no
    /// child of it behind. Within a second (a killed process in uninterruptible sleep ends
    /// later, and is reaped then).
    ///
    /// - Throws: ``Timeout`` after a second; `CancellationError` if the calling greenlet is killed.
    private func waitUntilReaped(_ spares: [ForkedChild]) async throws {
        guard !spares.isEmpty else { return }
        for spare in spares { spare.onExit { [weak self] _ in self?.wakeWaiters() } }
        try await waitUntil(timeout: 1) { _ in spares.allSatisfy { $0.exitStatus != nil } }
    }

    // MARK: Environment

    /// This program's path, so workers are the same executable.
    nonisolated static var currentExecutable: String {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let count = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard count > 0 else { return CommandLine.arguments[0] }
        return String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// The parent's environment plus the worker marker.
    static func workerEnvironment() -> [String] {
        inheritedEnvironment() + ["\(WorkerEnvironment.marker)=\(WorkerEnvironment.channelFD)"]
    }

    /// The parent's environment without the markers that make a process a worker or a
    /// fork server.
    static func inheritedEnvironment() -> [String] {
        var result: [String] = []
        var entry = environ
        while let pointer = entry.pointee {
            let line = String(cString: pointer)
            if !line.hasPrefix(WorkerEnvironment.marker + "=") && !line.hasPrefix(ForkServer.marker + "=")
                && !line.hasPrefix(ForkServer.protocolMarker + "=") { result.append(line) }
            entry += 1
        }
        return result
    }
}

/// A map that may still send jobs, held weakly: a map its reader dropped does not keep a
/// closed pool's workers.
private struct FeedingMap {
    weak var sink: (any MapSink)?
}
