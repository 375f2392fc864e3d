import Synchronization

/// A job submitted to a ``ProcessPool``: a future for its output — `AsyncResult` from
/// `apply_async`, `Future` from `ProcessPoolExecutor.submit`.
///
/// It is ``Joinable``, so ``joinAll(_:timeout:raiseError:count:)`` and
/// ``iwait(_:timeout:count:)`` take job handles and greenlets alike. An error nobody reads
/// is reported once on standard error when the handle goes away.
public final class JobHandle<Output: Sendable>: Joinable {
    private struct State {
        var outcome: Result<Output, any Error>?
        var callbacks: [(token: UInt64, body: @Sendable @Hub () -> Void)] = []
        var nextToken: UInt64 = 0
        var observed = false
    }

    private let state = Mutex(State())
    /// Set by the pool right after the task is made; read only on the hub.
    nonisolated(unsafe) var task: PoolTask?

    init() {}

    deinit {
        let unreported = state.withLock { state -> (any Error)? in
            guard case .failure(let error)? = state.outcome, !state.observed, !(error is JobCancelled) else { return nil }
            return error
        }
        if let unreported {
            HubDiagnostics.report("Sprout: a process job failed and nobody read its error: \(unreported)")
        }
    }

    /// True once the job has finished, successfully or not.
    public var isReady: Bool { state.withLock { $0.outcome != nil } }

    /// True once the job has finished with a value.
    public var isSuccessful: Bool {
        state.withLock { if case .success? = $0.outcome { true } else { false } }
    }

    /// The job's output, or `nil` if it has not finished or failed.
    public var value: Output? { state.withLock { try? $0.outcome?.get() } }

    /// The error the job ended with, or `nil`; reading it counts as observing it.
    public var error: (any Error)? {
        state.withLock { state in
            guard case .failure(let error)? = state.outcome else { return nil }
            state.observed = true
            return error
        }
    }

    /// Marks the job's error as seen, so it is not reported as unobserved.
    public func markObserved() {
        state.withLock { $0.observed = true }
    }

    /// Waits until the job finishes or `timeout` seconds pass (forever when `nil`); returns
    /// whether it finished. Neither the job's error nor the timeout is thrown, and the job
    /// goes on running.
    ///
    /// - Throws: `CancellationError` if the waiting greenlet is killed.
    @Hub
    @discardableResult
    public func join(timeout: Double? = nil) async throws -> Bool {
        if isReady { return true }
        let waiter = Waiter<Void>()
        let wake = await park(waiter, timeout: timeout) { waiter in
            let token = addCallback { waiter.wake() }
            waiter.onAbandon = { [self] in state.withLock { $0.callbacks.removeAll { $0.token == token } } }
        }
        switch wake {
        case .value, .timedOut: return isReady
        case .cancelled: throw CancellationError()
        }
    }

    /// Waits for the job and returns its output. A timeout here does not cancel the job.
    ///
    /// - Throws: ``JobFailed`` if the job threw; ``WorkerCrashed`` if its worker died;
    ///   ``JobCancelled`` or ``Timeout`` if it was cancelled or its own deadline passed;
    ///   ``ProcessPoolError``; ``Timeout`` if `timeout` passes first;
    ///   `CancellationError` if the waiting greenlet is killed.
    @Hub
    public func get(timeout: Double? = nil) async throws -> Output {
        guard try await join(timeout: timeout) else { throw Timeout(seconds: timeout ?? 0) }
        let outcome = state.withLock { state in
            state.observed = true
            return state.outcome!
        }
        return try outcome.get()
    }

    /// Cancels the job without waiting: dropped if still queued; if running, its worker is
    /// killed (SIGTERM, grace period, SIGKILL) and replaced. It fails with ``JobCancelled``.
    public func cancel() {
        Hub.later { [self] in
            guard let task, let pool = task.pool else { return }
            pool.cancel(task, with: JobCancelled(job: task.jobDescription))
        }
    }

    /// Calls `callback` on the hub once the job has finished (on a later turn if it has).
    public func onDone(_ callback: @escaping @Sendable @Hub () -> Void) {
        let finished = state.withLock { state -> Bool in
            if state.outcome != nil { return true }
            state.callbacks.append((state.nextToken, callback))
            state.nextToken += 1
            return false
        }
        if finished { Hub.later(callback) }
    }

    private func addCallback(_ callback: @escaping @Sendable @Hub () -> Void) -> UInt64 {
        state.withLock { state in
            let token = state.nextToken
            state.nextToken += 1
            state.callbacks.append((token, callback))
            return token
        }
    }

    @Hub
    func complete(_ outcome: Result<Output, any Error>) {
        let callbacks = state.withLock { state in
            state.outcome = outcome
            let callbacks = state.callbacks
            state.callbacks = []
            return callbacks
        }
        task = nil
        for callback in callbacks { callback.body() }
    }
}
