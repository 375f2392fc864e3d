import CLibuv
import DequeModule

/// Signals delivered to greenlets: create it for the signals you want, then await them
/// one by one or with `for try await` — without a raw `signal()` handler that would fight
/// libuv's (Sprout watches them through libuv's signal handles).
///
/// ```swift
/// let hangups = try Signals(SIGHUP)
/// for try await _ in hangups { reloadConfiguration() }
/// ```
///
/// Signals that arrive while nobody waits are kept (up to ``queueLimit``), so none is
/// missed between two waits. Watching SIGINT or SIGTERM here makes them the program's to
/// handle: while a `Signals` watches one, ``Hub/run(logger:_:)`` does not shut down on it (as a
/// Python handler installed with `signal.signal` replaces `KeyboardInterrupt`); once it
/// is closed, the default shutdown is back. ``close()`` when done. Hub-thread only.
@Hub
public final class Signals: AsyncSequence, AsyncIteratorProtocol {
    public typealias Element = Int32
    public typealias Failure = any Error

    /// Signals kept while nobody waits; more are dropped (the count would be meaningless).
    public var queueLimit = 1024

    private var watchers: [SignalWatcher] = []
    /// The signals this instance claims from the hub (``SignalClaims``).
    private var claimed: [Int32] = []
    private var arrived = Deque<Int32>()
    private var waiters: [Waiter<Void>] = []
    private var closed = false

    /// Starts watching `signals` now.
    ///
    /// - Throws: ``IOError`` if libuv cannot watch one of them (`EINVAL` for SIGKILL
    ///   or SIGSTOP, which cannot be caught).
    public convenience init(_ signals: Int32...) throws(IOError) {
        try self.init(signals)
    }

    /// Starts watching `signals` now.
    ///
    /// - Throws: ``IOError`` if libuv cannot watch one of them.
    public init(_ signals: [Int32]) throws(IOError) {
        for signal in signals {
            do {
                // Keeps the loop alive: someone is waiting for this signal.
                watchers.append(try SignalWatcher(signal: signal, keepsLoopAlive: true) { [weak self] signal in
                    self?.deliver(signal)
                })
                SignalClaims.claim(signal)
                claimed.append(signal)
            } catch {
                close()
                throw IOError(code: error.code, operation: "watch", peer: signalName(signal))
            }
        }
    }

    isolated deinit {
        close()
    }

    /// Waits for the next of the watched signals.
    ///
    /// - Returns: the signal's number.
    /// - Throws: ``IOError`` `ETIMEDOUT` after `timeout` seconds, `ECANCELED` after
    ///   ``close()``; `CancellationError` if the greenlet is killed.
    public func wait(timeout: Double? = nil) async throws -> Int32 {
        guard let signal = try await nextSignal(timeout: timeout) else {
            throw IOError(code: Int32(UV_ECANCELED.rawValue), operation: "wait for a signal after close")
        }
        return signal
    }

    /// The next signal; `nil` once closed.
    private func nextSignal(timeout: Double?) async throws -> Int32? {
        let deadline = Deadline(timeout: timeout)
        while arrived.isEmpty {
            if closed { return nil }
            let woken = try await parkUnlessReady(
                timeout: deadline?.secondsLeft,
                ready: { !arrived.isEmpty || closed },
                enlist: { waiters.append($0) },
                abandoned: { waiters.removeAll { !$0.isWaiting } }
            )
            if !woken { throw IOError(code: Int32(UV_ETIMEDOUT.rawValue), operation: "wait for a signal") }
        }
        return arrived.removeFirst()
    }

    /// The next signal, for `for try await`; `nil` once closed.
    ///
    /// - Throws: `CancellationError` if the greenlet is killed.
    public func next() async throws -> Int32? {
        try await nextSignal(timeout: nil)
    }

    public nonisolated func makeAsyncIterator() -> Signals { self }

    /// Waits once for any of `signals` — `signal.sigwait` for a greenlet.
    ///
    /// - Returns: the signal that arrived.
    /// - Throws: what ``init(_:)-(Int32...)`` and ``wait(timeout:)-(Double?)`` throw.
    public static func wait(for signals: Int32..., timeout: Double? = nil) async throws -> Int32 {
        let watch = try Signals(signals)
        defer { watch.close() }
        return try await watch.wait(timeout: timeout)
    }

    /// Stops watching; waiting greenlets fail (a `for try await` loop ends). Closing twice
    /// does nothing.
    public func close() {
        guard !closed else { return }
        closed = true
        for watcher in watchers { watcher.close() }
        watchers = []
        for signal in claimed { SignalClaims.release(signal) }
        claimed = []
        wakeAll()
    }

    private func deliver(_ signal: Int32) {
        guard !closed else { return }
        if arrived.count < queueLimit { arrived.append(signal) }
        wakeAll()
    }

    private func wakeAll() {
        let waiters = self.waiters
        self.waiters = []
        for waiter in waiters { waiter.wake() }
    }
}
