import Synchronization
import Logging

/// A one-shot outcome that greenlets wait on: the part ``Greenlet``, the process pool's
/// `JobHandle` and ``AsyncResult`` share — a value or an error that arrives once, waiters
/// that wake when it does, completion callbacks, and the rule that an error surfaces
/// exactly once (to whoever reads it, or in one report on standard error when the last
/// reference goes away unread).
///
/// Subclasses say how the outcome arrives and what `cancel()` means.
public class Completion<Value: Sendable>: Joinable, WaitSubject, @unchecked Sendable {
    private let state = ThreadMutex(CompletionState())

    init() {}

    deinit {
        let unread = state.withLock { state -> (any Error)? in
            guard let error = state.failure, !state.observed else { return nil }
            return error
        }.flatMap { isDeliberate($0) ? nil : $0 }
        if let unread {
            Hub.logger.error("\(reportName) failed and nobody read its error: \(unread)")
        }
    }

    /// How an unread error's report names this completion.
    var reportName: String { "\(Self.self)" }

    package var waitName: String { reportName }

    /// Errors that end it on purpose (a kill, a cancel) and are never reported unread.
    func isDeliberate(_ error: any Error) -> Bool { false }

    /// True once it has its outcome, a value or an error.
    public var isReady: Bool { state.withLock { $0.finished } }

    /// True once it has a value.
    public var isSuccessful: Bool { state.withLock { $0.finished && $0.failure == nil } }

    /// The value, or `nil` while there is none (not finished, or failed).
    public var value: Value? { state.withLock { $0.value } as? Value }

    /// The error it ended with, or `nil`. Reading it counts as observing it.
    public var error: (any Error)? {
        state.withLock { state in
            guard let error = state.failure else { return nil }
            state.observed = true
            return error
        }
    }

    /// Marks its error as seen, so it is not reported as unread.
    public func markObserved() {
        state.withLock { $0.observed = true }
    }

    /// Asks it to stop without waiting; what that means is up to the subclass.
    public func cancel() {}

    /// Waits until it has its outcome or `timeout` seconds pass (forever when `nil`);
    /// returns ``isReady``. The outcome's error is not thrown.
    ///
    /// - Throws: `CancellationError` if the waiting greenlet is killed meanwhile.
    @Hub
    @discardableResult
    public func join(timeout: Double? = nil) async throws -> Bool {
        if isReady { return true }
        let waiter = Waiter<Void>(purpose: "join() or get()")
        waiter.subject = self
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

    /// Waits for the outcome and returns its value.
    ///
    /// - Throws: the error it ended with; ``Timeout`` if `timeout` seconds pass first;
    ///   `CancellationError` if the waiting greenlet is killed meanwhile.
    @Hub
    public func get(timeout: Double? = nil) async throws -> Value {
        guard try await join(timeout: timeout) else { throw Timeout(seconds: timeout ?? 0) }
        return try takeOutcome()!.get()
    }

    /// Calls `callback` on the hub once it has its outcome (on a later turn if it already
    /// has) — gevent's `link`.
    public func onDone(_ callback: @escaping @Sendable @Hub () -> Void) {
        if addCallback(callback) == nil { Hub.later(callback) }
    }

    /// Calls `callback` on the hub with the outcome once there is one (on a later turn if
    /// there already is) — gevent's `link` with the greenlet's result, multiprocessing's
    /// `callback=` and `error_callback=` in one. The callback sees the error, so it counts
    /// as read: it is not reported as unobserved.
    ///
    /// ```swift
    /// handle.onDone { result in
    ///     switch result {
    ///     case .success(let value): print("got", value)
    ///     case .failure(let error): print("failed:", error)
    ///     }
    /// }
    /// ```
    public func onDone(_ callback: @escaping @Sendable @Hub (Result<Value, any Error>) -> Void) {
        markObserved()
        onDone { [self] in callback(takeOutcome()!) }
    }

    /// The outcome if there is one, marking its error observed.
    func takeOutcome() -> Result<Value, any Error>? {
        let (finished, value, failure) = state.withLock { state in
            state.observed = true
            return (state.finished, state.value, state.failure)
        }
        guard finished else { return nil }
        if let failure { return .failure(failure) }
        return .success(value as! Value)
    }

    /// Stores the outcome and runs the callbacks — at once on the hub, else on its next
    /// turn. Returns `false`, changing nothing, if it already had one.
    @discardableResult
    func complete(_ outcome: Result<Value, any Error>) -> Bool {
        switch outcome {
        case .success(let value): complete(value: value, failure: nil)
        case .failure(let error): complete(value: nil, failure: error)
        }
    }

    /// ``complete(_:)`` for a caller that holds the pieces: code generic over `Value`
    /// that builds a `Result<Value, …>` looks its metadata up at run time, on every
    /// greenlet's end.
    @discardableResult
    func complete(value: (any Sendable)?, failure: (any Error)?) -> Bool {
        let callbacks = state.withLock { state -> [@Sendable @Hub () -> Void]? in
            guard !state.finished else { return nil }
            state.finished = true
            state.value = value
            state.failure = failure
            defer { state.callbacks = [] }
            return state.callbacks.map(\.body)
        }
        guard let callbacks else { return false }
        if callbacks.isEmpty { return true }
        if Hub.isCurrent {
            Hub.assumeIsolated { for callback in callbacks { callback() } }
        } else {
            Hub.later { for callback in callbacks { callback() } }
        }
        return true
    }

    /// Adds a completion callback, or returns `nil` if the outcome is already there.
    private func addCallback(_ callback: @escaping @Sendable @Hub () -> Void) -> UInt64? {
        state.withLock { state in
            if state.finished { return nil }
            let token = state.nextToken
            state.nextToken += 1
            state.callbacks.append((token, callback))
            return token
        }
    }

    private func removeCallback(_ token: UInt64) {
        state.withLock { state in state.callbacks.removeAll { $0.token == token } }
    }
}

/// The outcome's storage, kept out of the generic class: unspecialized generic code (what a
/// client module calls) looks up the metadata of every generic type it touches, and this
/// state is touched on every spawn, join and completion.
private struct CompletionState {
    var finished = false
    var value: (any Sendable)?
    var failure: (any Error)?
    var callbacks: [(token: UInt64, body: @Sendable @Hub () -> Void)] = []
    var nextToken: UInt64 = 0
    var observed = false
}
