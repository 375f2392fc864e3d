/// A flag shared by processes that they can wait for — multiprocessing's `Event`. Nobody
/// holds it, so a process that dies leaves nothing to repair.
///
/// Send it to workers inside a job (it is `Codable`; the shared memory's name travels).
/// Waiting switches greenlets on the hub and sleeps the thread in a worker's job.
public final class ProcessEvent: Codable, Sendable {
    private let words: SharedWords

    /// A new event, not set.
    ///
    /// - Throws: ``SharedMemoryError`` if the shared memory cannot be made.
    public init() throws {
        words = try SharedWords(count: 1)
    }

    /// True once ``set()`` was called, until ``clear()`` — `is_set()`.
    public var isSet: Bool { words.withLock { $0[0] != 0 } }

    /// Sets the flag; every waiter, in every process, wakes.
    public func set() { words.withLock { $0[0] = 1 } }

    /// Clears the flag.
    public func clear() { words.withLock { $0[0] = 0 } }

    /// Waits until the flag is set or `timeout` seconds pass (forever when `nil`); returns
    /// whether it is set, as Python's `wait` does.
    ///
    /// - Throws: `CancellationError` if the greenlet is killed first.
    @discardableResult
    public func wait(timeout: Double? = nil) async throws -> Bool {
        try await pollUntil(timeout: timeout) { isSet ? true : nil } ?? false
    }

    /// Encodes the shared memory's name.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(words.name)
    }

    /// Maps the event another process made.
    ///
    /// - Throws: ``SharedMemoryError`` if it no longer exists.
    public init(from decoder: any Decoder) throws {
        words = try SharedWords(opening: decoder.singleValueContainer().decode(String.self))
    }
}
