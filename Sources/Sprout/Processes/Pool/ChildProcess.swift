import Glibc
import Logging
import Synchronization

/// One job in a child process of its own — multiprocessing's `Process(target=...)`.
///
/// The child is this program started again as a worker (`main` must call
/// ``ProcessPool/serveIfWorker(jobs:coder:)`` and register the job's type). It runs the
/// one job and exits. A *daemon* child is terminated when the hub shuts down (the end of
/// `Hub.run`, Ctrl-C); a non-daemon child is waited for then, as multiprocessing waits
/// for non-daemon processes. Either way a child whose parent dies exits too.
///
/// It is ``Joinable`` — ready once the child has exited, its value the job's output — so
/// ``joinAll(_:timeout:raiseError:count:)-([Joinable],Double?,_,_)`` and ``iwait(_:timeout:count:)-([Joinable],Double?,Int?)`` take
/// children as they take greenlets and job handles.
@Hub
public final class ChildProcess<Job: ProcessJob>: Joinable {
    /// The job the child runs.
    public let job: Job
    /// The child's name — multiprocessing's `Process.name`: the one given, or
    /// `ChildProcess-<n>` numbered in creation order.
    public nonisolated let name: String
    /// Whether the child is terminated, rather than waited for, when the hub shuts down.
    public let daemon: Bool
    /// How long ``terminate(grace:)-(Double?)`` waits between SIGTERM and SIGKILL by default.
    public let killGrace: Double
    private let executable: String
    private let coder: any ProcessCoder
    private let logger: Logger
    private var worker: WorkerProcess?
    private var task: PoolTask?
    private var outcome: Result<Job.Output, any Error>?
    private var status: ExitStatus?
    private var waiters: [Waiter<Void>] = []
    private var hook: ShutdownHook?
    /// Completed when the child has exited; what ``Joinable`` reads.
    private nonisolated let exit = ChildExit<Job.Output>()

    /// Prepares a child for `job`; ``start()`` starts it. Each line the child writes on its
    /// standard error goes to `logger` (`Logger(label: "sprout.pool")` when `nil`), prefixed
    /// with its pid.
    public init(_ job: Job, name: String? = nil, daemon: Bool = false, executable: String? = nil,
                coder: any ProcessCoder = JSONProcessCoder(), killGrace: Double = 1, logger: Logger? = nil) {
        self.logger = logger ?? Logger(label: HubLogger.poolLabel)
        self.job = job
        self.name = name ?? "ChildProcess-\(childNumbers.add(1, ordering: .relaxed).newValue)"
        self.daemon = daemon
        self.executable = executable ?? ProcessPool.currentExecutable
        self.coder = coder
        self.killGrace = killGrace
    }

    /// Starts the child.
    ///
    /// - Throws: ``ProcessPoolError/insideWorker`` in a worker; ``ProcessPoolError/closed``
    ///   if it was started before; ``ProcessPoolError/coding(job:detail:)`` if the job cannot
    ///   be encoded; ``HubError`` if the process cannot be started.
    public func start() throws {
        WorkerEnvironment.exitIfNotServing()
        if WorkerEnvironment.workerChannel != nil { throw ProcessPoolError.insideWorker }
        guard worker == nil, status == nil else { throw ProcessPoolError.closed }
        let name = Array(Job.jobName.utf8)
        let (payload, descriptors) = try encodeJob(job, name: name.count, coder: coder, limit: Frame.maxPayload)
        let coder = self.coder
        task = PoolTask(id: 1, name: name, payload: payload[...], job: job, retries: 0) { [weak self] outcome in
            deliverOutput(outcome, of: Job.self, coder: coder) { self?.outcome = $0 }
        }
        task?.descriptors = descriptors
        worker = try WorkerProcess(
            executable: executable,
            environment: ProcessPool.workerEnvironment(),
            // Run again, not forked from the fork server: the child's parent is this
            // program, as multiprocessing.Process's is (the seeds print os.getppid()).
            start: .spawn,
            coder: coder,
            logger: logger,
            onEvent: { [weak self] worker, event in self?.handle(event, from: worker) },
            afterFrames: {},
            onExit: { [weak self] worker, status in self?.exited(worker, status: status) }
        )
        // The hook keeps the child object alive until the child exits (as multiprocessing
        // keeps its children listed), so dropping the object does not skip the wait.
        hook = Hub.onShutdown { [self] in
            // As multiprocessing does at exit: every daemon is stopped first, then the
            // others are waited for (hooks run one by one, so this one may come first).
            for stop in liveDaemons.values { stop() }
            _ = try? await join(timeout: daemon ? killGrace + 5 : nil)
        }
        if daemon { liveDaemons[ObjectIdentifier(self)] = { [weak self] in self?.terminate() } }
    }

    /// The child's process id, once started.
    public var pid: Int32? { worker?.pid }

    /// True from ``start()`` until the child has exited.
    public var isAlive: Bool { worker != nil && status == nil }

    /// How the child ended — its exit code or signal — or `nil` while it runs. Reading
    /// it counts as observing the child's error.
    public var exitStatus: ExitStatus? {
        exit.markObserved()
        return status
    }

    /// multiprocessing's `exitcode`: the exit code, minus the signal number if a signal
    /// ended the child, or `nil` while it runs. Reading it counts as observing the
    /// child's error.
    public var exitCode: Int32? {
        switch exitStatus {
        case .exited(let code)?: code
        case .signaled(let signal)?: -signal
        case nil: nil
        }
    }

    private func handle(_ event: WorkerProcess.Event, from worker: WorkerProcess) {
        switch event {
        case .ready(let jobs):
            guard let task else { return }
            guard jobs.contains(Job.jobName) else {
                task.finish(.failure(ProcessPoolError.unregisteredJob(Job.jobName, served: jobs)))
                worker.closeChannel()
                return
            }
            worker.assign([task])
            worker.sendAssigned()
        case .answered(let task, let kind, let payload, _):
            finish(task, kind: kind, payload: payload, worker: worker)
        case .answeredItems:
            // Its one job is not a map's chunk.
            break
        }
    }

    private func finish(_ task: PoolTask, kind: FrameKind, payload: ArraySlice<UInt8>, worker: WorkerProcess) {
        task.finish(kind == .result
            ? .success(payload)
            : .failure(JobFailed.decode(payload, job: task.jobDescription, coder: coder)))
        // Its one job is done: end of channel lets the child exit.
        worker.closeChannel()
    }

    private func exited(_ worker: WorkerProcess, status: ExitStatus) {
        self.status = status
        if let task, !task.isDone {
            if let violation = worker.violation {
                task.finish(.failure(ProcessPoolError.protocolViolation(
                    pid: worker.pid, job: task.jobDescription, detail: violation.description)))
            } else {
                task.finish(.failure(WorkerCrashed(
                    pid: worker.pid, status: status, job: task.jobDescription, stderrTail: worker.stderrText)))
            }
        }
        task = nil
        exit.complete(outcome ?? .failure(ProcessPoolError.closed))
        liveDaemons[ObjectIdentifier(self)] = nil
        if let hook { Hub.removeShutdownHook(hook) }
        hook = nil
        let woken = waiters
        waiters = []
        for waiter in woken { waiter.wake() }
    }

    /// Waits until the child has exited or `timeout` seconds pass; returns whether it exited.
    ///
    /// - Throws: `CancellationError` if the waiting greenlet is killed.
    @discardableResult
    public func join(timeout: Double? = nil) async throws -> Bool {
        if status != nil || worker == nil { return status != nil }
        let woken = try await parkUnlessReady(
            timeout: timeout,
            ready: { status != nil },
            enlist: { waiters.append($0) },
            abandoned: { waiters.removeAll { !$0.isWaiting } }
        )
        return woken || status != nil
    }

    /// Waits for the child and returns its job's output.
    ///
    /// - Throws: ``JobFailed`` if the job threw; ``WorkerCrashed`` if the child died first;
    ///   ``ProcessPoolError``; ``Timeout`` if `timeout` passes; `CancellationError`.
    public func value(timeout: Double? = nil) async throws -> Job.Output {
        guard try await join(timeout: timeout) else { throw Timeout(seconds: timeout ?? 0) }
        return try await exit.get(timeout: nil)
    }

    /// Asks the child to stop: SIGTERM, then SIGKILL after `grace` seconds.
    public func terminate(grace: Double? = nil) {
        guard isAlive, let worker else { return }
        exit.markObserved()
        worker.terminate(grace: grace ?? killGrace)
    }

    /// Kills the child and what it started (its process group) with SIGKILL.
    public func kill() {
        guard isAlive else { return }
        exit.markObserved()
        worker?.kill()
    }

    // MARK: Joinable

    /// True once the child has exited.
    public nonisolated var isReady: Bool { exit.isReady }

    /// True once the child has exited after its job returned a value.
    public nonisolated var isSuccessful: Bool { exit.isSuccessful }

    /// The error the child ended with (``JobFailed``, ``WorkerCrashed``…), once it has
    /// exited; reading it counts as observing it.
    public nonisolated var error: (any Error)? { exit.error }

    /// Waits for the child and returns its job's output; see ``value(timeout:)-(Double?)``.
    ///
    /// - Throws: as ``value(timeout:)-(Double?)``.
    public func get(timeout: Double?) async throws -> Job.Output {
        try await value(timeout: timeout)
    }

    /// Terminates the child (see ``terminate(grace:)-(Double?)``) without waiting.
    public nonisolated func cancel() {
        Hub.later { [self] in terminate() }
    }

    /// Calls `callback` on the hub once the child has exited.
    public nonisolated func onDone(_ callback: @escaping @Sendable @Hub () -> Void) {
        exit.onDone(callback)
    }

    /// Calls `callback` on the hub with the job's outcome once the child has exited.
    public nonisolated func onDone(_ callback: @escaping @Sendable @Hub (Result<Job.Output, any Error>) -> Void) {
        exit.onDone(callback)
    }

    /// Marks the child's error as seen, so it is not reported as unobserved.
    public nonisolated func markObserved() {
        exit.markObserved()
    }
}

/// A child's outcome, complete once the child has exited; an error nobody reads is
/// reported once, naming the child's job.
private final class ChildExit<Value: Sendable>: Completion<Value>, @unchecked Sendable {
    override var reportName: String { "a child process" }
}

private let childNumbers = Atomic<Int>(0)

/// How to stop each daemon child still running, so shutdown stops them all before it waits
/// for any other child.
@Hub private var liveDaemons: [ObjectIdentifier: @Hub () -> Void] = [:]
