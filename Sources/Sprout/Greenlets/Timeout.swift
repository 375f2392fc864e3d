import Synchronization

/// The error a deadline throws: gevent's `Timeout`.
///
/// A greenlet that catches it goes on normally: a timeout interrupts only the waiting
/// it bounded, it does not kill the greenlet. Each deadline has its own ``id``, so nested
/// timeouts can tell whose expired (`catch let t as Timeout where t.id == mine`).
public struct Timeout: Error, Hashable, CustomStringConvertible, Sendable {
    private static let nextID = Atomic<UInt64>(1)

    /// The deadline's length in seconds.
    public let seconds: Double
    /// Distinguishes one deadline from another.
    public let id: UInt64

    /// A new deadline of `seconds`, with an id of its own.
    public init(seconds: Double) {
        self.seconds = seconds
        id = Self.nextID.add(1, ordering: .relaxed).oldValue
    }

    public var description: String { "timed out after \(seconds) s" }
}

/// Runs `body` with a deadline of `seconds` (none when `nil`); if it is still waiting when
/// the deadline passes, its waits are interrupted and ``Timeout`` is thrown here.
///
/// The caller is not cancelled: `body` runs in a child task, and only that child is
/// cancelled when time runs out (Swift cancellation is sticky, gevent's `Timeout` is not).
/// So the greenlet catches `Timeout` and goes on. Deadlines nest: an inner one throws its
/// own `Timeout`, an outer one interrupts everything inside it.
///
/// - Throws: ``Timeout`` when the deadline passes; whatever `body` throws;
///   `CancellationError` if the calling greenlet is killed.
@Hub
public func withTimeout<T: Sendable>(
    _ seconds: Double?,
    _ body: @escaping @Hub @Sendable () async throws -> T
) async throws -> T {
    guard let seconds else { return try await body() }
    let timeout = Timeout(seconds: seconds)
    let child = startHelperTask(body)
    let deadline = Hub.schedule(after: seconds) {
        child.cancel()
    }
    defer { Hub.cancelTimer(deadline) }
    do {
        return try await withTaskCancellationHandler {
            try await child.value
        } onCancel: {
            child.cancel()
        }
    } catch is CancellationError where !deadline.isPending && !Task.isCancelled {
        throw timeout
    }
}

/// Like ``withTimeout(_:_:)-(Double?,_)``, but returns `fallback` instead of throwing when the
/// deadline passes — gevent's `with_timeout(..., timeout_value=...)`.
///
/// - Throws: whatever `body` throws; `CancellationError` if the calling greenlet is killed.
@Hub
public func withTimeout<T: Sendable>(
    _ seconds: Double?,
    default fallback: T,
    _ body: @escaping @Hub @Sendable () async throws -> T
) async throws -> T {
    do {
        return try await withTimeout(seconds, body)
    } catch is Timeout where !Task.isCancelled {
        return fallback
    }
}
