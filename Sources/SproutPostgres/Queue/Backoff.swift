import Sprout

/// The pause before trying again after a fault: 0.05 s, doubling with each failure in a
/// row up to 1 s, back to 0.05 s after a success. A server that is down or refusing is not
/// asked more than a few times a second, and one that is back is asked again within a
/// second. Shared by the worker host's lanes and listener and the client's listener.
struct Backoff {
    private static let first = 0.05
    private static let longest = 1.0

    /// Seconds the next ``pause()`` waits.
    private(set) var delay = Backoff.first

    /// Records a success: the next failure waits the shortest pause again.
    mutating func succeeded() {
        delay = Self.first
    }

    /// Records a failure and waits ``delay``; the next pause is twice as long.
    ///
    /// - Throws: `CancellationError` if the waiting greenlet is killed.
    @Hub
    mutating func pause() async throws {
        let seconds = delay
        delay = min(delay * 2, Self.longest)
        try await sleep(seconds)
    }
}
