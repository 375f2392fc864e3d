import Synchronization

/// The error a killed greenlet ends with: gevent's `GreenletExit`.
///
/// Killing is deliberate, so a greenlet that ends this way is never reported as an
/// unobserved failure, and ``joinAll(_:timeout:raiseError:count:)`` does not raise it.
public struct GreenletExit: Error, CustomStringConvertible, Sendable {
    /// The killed greenlet's name.
    public let greenlet: String
    public var description: String { "greenlet '\(greenlet)' was killed" }
}

/// A lightweight task running on the hub, gevent's `Greenlet`: made by ``spawn(name:_:)``,
/// it switches to other greenlets whenever it waits on a Sprout operation.
///
/// Its outcome is read with ``get(timeout:)``, ``value``, ``error``; ``join(timeout:)``
/// waits without throwing the outcome. An error the body throws surfaces exactly once:
/// to whoever reads it, or — if nobody ever does — in one report on standard error when
/// the last reference to the greenlet goes away.
public final class Greenlet<Value: Sendable>: Joinable, RunningGreenlet {
    private struct State {
        var outcome: Result<Value, any Error>?
        var task: Task<Void, Never>?
        var taskKey: UInt = 0
        var callbacks: [(token: UInt64, body: @Sendable @Hub () -> Void)] = []
        var nextToken: UInt64 = 0
        var observed = false
        var killed = false
        var parked: (any ParkedWaiter)?
    }

    /// The greenlet's id, name and spawn location.
    public let context: GreenletContext
    private let state = Mutex(State())

    init(context: GreenletContext) {
        self.context = context
    }

    deinit {
        let unreported = state.withLock { state -> (any Error)? in
            guard case .failure(let error)? = state.outcome, !state.observed, !(error is GreenletExit) else {
                return nil
            }
            return error
        }
        if let unreported {
            HubDiagnostics.report(
                "Sprout: greenlet \(context.description) failed and nobody read its error: \(unreported)"
            )
        }
    }

    /// The greenlet's name.
    public var name: String { context.name }

    /// True once the greenlet has finished.
    public var isReady: Bool { state.withLock { $0.outcome != nil } }

    /// True once the greenlet has finished by returning a value.
    public var isSuccessful: Bool {
        state.withLock { if case .success? = $0.outcome { true } else { false } }
    }

    /// The value the greenlet returned, or `nil` if it has not finished or failed.
    public var value: Value? {
        state.withLock { try? $0.outcome?.get() }
    }

    /// The error the greenlet ended with (``GreenletExit`` if killed), or `nil`.
    /// Reading it counts as observing the error.
    public var error: (any Error)? {
        state.withLock { state in
            guard case .failure(let error)? = state.outcome else { return nil }
            state.observed = true
            return error
        }
    }

    /// Marks the greenlet's error as seen, so it is not reported as unobserved.
    public func markObserved() {
        state.withLock { $0.observed = true }
    }

    /// The outcome if finished, marking any error observed.
    func takeOutcome() -> Result<Value, any Error>? {
        state.withLock { state in
            state.observed = true
            return state.outcome
        }
    }

    /// Waits until the greenlet finishes or `timeout` seconds pass (forever when `nil`);
    /// returns whether it finished. Its error, if any, is not thrown.
    ///
    /// - Throws: `CancellationError` if the *waiting* greenlet is killed meanwhile.
    @Hub
    @discardableResult
    public func join(timeout: Double? = nil) async throws -> Bool {
        if isReady { return true }
        let waiter = Waiter<Void>()
        let wake = await park(waiter, timeout: timeout) { waiter in
            guard let token = addCallback({ waiter.wake() }) else {
                waiter.wake()
                return
            }
            waiter.onAbandon = { [self] in removeCallback(token) }
        }
        switch wake {
        case .value, .timedOut: return isReady
        case .cancelled: throw CancellationError()
        }
    }

    /// Waits for the greenlet and returns its value.
    ///
    /// - Throws: the error the greenlet threw (``GreenletExit`` if it was killed);
    ///   ``Timeout`` if `timeout` seconds pass first; `CancellationError` if the waiting
    ///   greenlet is killed meanwhile.
    @Hub
    public func get(timeout: Double? = nil) async throws -> Value {
        guard try await join(timeout: timeout) else { throw Timeout(seconds: timeout ?? 0) }
        return try takeOutcome()!.get()
    }

    /// Kills the greenlet without waiting: its current (or next) Sprout wait throws
    /// `CancellationError`, its cleanup (`defer`, `catch`) runs, and it ends with
    /// ``GreenletExit`` unless it catches that and returns a value. Waiters wake.
    public func cancel() {
        let task = state.withLock { state -> Task<Void, Never>? in
            if state.outcome == nil { state.killed = true }
            return state.task
        }
        task?.cancel()
        // Read after the task is marked cancelled: a park that missed the mark has
        // recorded its waiter by now (see `park`).
        guard let parked = state.withLock({ $0.parked }) else { return }
        if Hub.isCurrent {
            Hub.assumeIsolated { parked.cancel() }
        } else {
            Hub.later { parked.cancel() }
        }
    }

    func setParked(_ waiter: (any ParkedWaiter)?) {
        state.withLock { $0.parked = waiter }
    }

    /// Kills the greenlet (see ``cancel()``) and, when `block` is true, waits up to
    /// `timeout` seconds (forever when `nil`) for it to finish — gevent's `kill`.
    ///
    /// - Throws: `CancellationError` if the killing greenlet is itself killed while waiting.
    @Hub
    public func kill(block: Bool = true, timeout: Double? = nil) async throws {
        cancel()
        if block { try await join(timeout: timeout) }
    }

    /// Calls `callback` on the hub once the greenlet finishes (on a later turn if it
    /// already has) — gevent's `link`.
    public func onDone(_ callback: @escaping @Sendable @Hub () -> Void) {
        let finished = state.withLock { state -> Bool in
            if state.outcome != nil { return true }
            state.callbacks.append((state.nextToken, callback))
            state.nextToken += 1
            return false
        }
        if finished { Hub.later(callback) }
    }

    /// Adds a completion callback, or returns `nil` if the greenlet has already finished.
    private func addCallback(_ callback: @escaping @Sendable @Hub () -> Void) -> UInt64? {
        state.withLock { state in
            if state.outcome != nil { return nil }
            let token = state.nextToken
            state.nextToken += 1
            state.callbacks.append((token, callback))
            return token
        }
    }

    private func removeCallback(_ token: UInt64) {
        state.withLock { state in state.callbacks.removeAll { $0.token == token } }
    }

    // MARK: Running

    func attach(_ task: Task<Void, Never>) {
        state.withLock { state in
            state.task = task
            state.taskKey = Sprout.taskKey(task)
        }
    }

    var joinable: any Joinable { self }

    /// The greenlet's whole life, run as its task's body on the hub.
    @Hub
    func run(_ body: @Hub () async throws -> Value) async {
        // Kept small on purpose: every byte of this frame is held by every suspended
        // greenlet, and frames that outgrow the task's first 1 KB slab cost another.
        if Task.isCancelled {
            fail(CancellationError())
            return
        }
        do {
            finish(.success(try await body()))
        } catch {
            fail(error)
        }
    }

    @Hub
    private func fail(_ error: any Error) {
        finish(.failure(Task.isCancelled && error is CancellationError ? GreenletExit(greenlet: name) : error))
    }

    @Hub
    private func finish(_ outcome: Result<Value, any Error>) {
        let (callbacks, task) = state.withLock { state in
            state.outcome = outcome
            state.task = nil
            let callbacks = state.callbacks
            state.callbacks = []
            return (callbacks, state.taskKey)
        }
        GreenletRegistry.shared.remove(task: task)
        for callback in callbacks { callback.body() }
    }
}

extension Greenlet: CustomStringConvertible {
    public var description: String { "Greenlet(\(context.description))" }
}
