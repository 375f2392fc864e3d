import Synchronization

/// A value that arrives later, once — gevent's `AsyncResult`: one side calls ``set(_:)``
/// or ``fail(_:)``, any number of greenlets ``get(timeout:)`` or ``join(timeout:)`` it.
///
/// It is ``Joinable``, so ``joinAll(_:timeout:raiseError:count:)`` and ``iwait(_:timeout:count:)``
/// take it next to greenlets. `set` and `fail` may be called from any thread (a thread
/// pool finishing a job); waiting happens on the hub, as for every Sprout wait.
///
/// ```swift
/// let answer = AsyncResult<Int>()
/// spawn { try await sleep(0.1); try answer.set(42) }
/// let value = try await answer.get(timeout: 1)   // 42
/// ```
public final class AsyncResult<Value: Sendable>: Joinable {
    private struct State {
        var outcome: Result<Value, any Error>?
        var waiters: [Waiter<Void>] = []
        var callbacks: [@Sendable @Hub () -> Void] = []
        var observed = false
    }

    private let state = Mutex(State())

    /// A result with no outcome yet.
    public init() {}

    /// True once it has its outcome.
    public var isReady: Bool { state.withLock { $0.outcome != nil } }

    /// True once it has a value.
    public var isSuccessful: Bool {
        state.withLock { if case .success? = $0.outcome { true } else { false } }
    }

    /// The value, or `nil` if not set or failed.
    public var value: Value? { state.withLock { try? $0.outcome?.get() } }

    /// The error it failed with, or `nil`. Reading it counts as observing it.
    public var error: (any Error)? {
        state.withLock { state in
            guard case .failure(let error)? = state.outcome else { return nil }
            state.observed = true
            return error
        }
    }

    /// Marks its error as seen.
    public func markObserved() { state.withLock { $0.observed = true } }

    /// Gives it its value and wakes every waiter. Callable from any thread.
    ///
    /// - Throws: ``AsyncResultError/alreadySet`` if it already has an outcome.
    public func set(_ value: Value) throws(AsyncResultError) {
        try resolve(.success(value))
    }

    /// Fails it with `error`, which every ``get(timeout:)`` then throws. Callable from any thread.
    ///
    /// - Throws: ``AsyncResultError/alreadySet`` if it already has an outcome.
    public func fail(_ error: any Error) throws(AsyncResultError) {
        try resolve(.failure(error))
    }

    /// Fails it with `CancellationError` unless it already has an outcome.
    public func cancel() {
        try? resolve(.failure(CancellationError()))
    }

    private func resolve(_ outcome: Result<Value, any Error>) throws(AsyncResultError) {
        let woken = try state.withLock { state throws(AsyncResultError) in
            guard state.outcome == nil else { throw .alreadySet }
            state.outcome = outcome
            defer { state.waiters = []; state.callbacks = [] }
            return (state.waiters, state.callbacks)
        }
        guard !woken.0.isEmpty || !woken.1.isEmpty else { return }
        let wakeAll: @Sendable @Hub () -> Void = {
            for waiter in woken.0 { waiter.wake() }
            for callback in woken.1 { callback() }
        }
        if Hub.isCurrent { Hub.assumeIsolated(wakeAll) } else { Hub.later(wakeAll) }
    }

    /// Calls `callback` on the hub once it has its outcome (on a later turn if it already has).
    public func onDone(_ callback: @escaping @Sendable @Hub () -> Void) {
        let ready = state.withLock { state in
            if state.outcome == nil { state.callbacks.append(callback) }
            return state.outcome != nil
        }
        if ready { Hub.later(callback) }
    }

    /// Waits until it has its outcome or `timeout` seconds pass; returns ``isReady``.
    ///
    /// - Throws: `CancellationError` if the waiting greenlet is killed.
    @Hub
    @discardableResult
    public func join(timeout: Double? = nil) async throws -> Bool {
        if isReady { return true }
        let waiter = Waiter<Void>()
        let wake = await park(waiter, timeout: timeout) { waiter in
            // Set between the check in `park` and here? Then wake at once.
            let parked = state.withLock { state in
                if state.outcome == nil { state.waiters.append(waiter) }
                return state.outcome == nil
            }
            if !parked { waiter.wake() }
        }
        switch wake {
        case .value, .timedOut:
            if case .timedOut = wake { forget(waiter) }
            return isReady
        case .cancelled:
            forget(waiter)
            throw CancellationError()
        }
    }

    private func forget(_ waiter: Waiter<Void>) {
        state.withLock { $0.waiters.removeAll { $0 === waiter } }
    }

    /// Waits for the outcome and returns the value.
    ///
    /// - Throws: the error given to ``fail(_:)``; ``Timeout`` if `timeout` seconds pass
    ///   first; `CancellationError` if the waiting greenlet is killed.
    @Hub
    public func get(timeout: Double? = nil) async throws -> Value {
        guard try await join(timeout: timeout) else { throw Timeout(seconds: timeout ?? 0) }
        let outcome = state.withLock { state in
            state.observed = true
            return state.outcome!
        }
        return try outcome.get()
    }
}
