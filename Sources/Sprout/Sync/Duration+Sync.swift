// The waits of the sync primitives with a `Duration` beside `Double` seconds:
// `event.wait(timeout: .milliseconds(50))`, `queue.get(timeout: .seconds(1))`.

extension Event {
    /// Waits up to `timeout` for the event to be set; ``wait(timeout:)`` with a `Duration`.
    ///
    /// - Returns: whether it was set in time.
    /// - Throws: `CancellationError` if the greenlet is killed while waiting.
    public func wait(timeout: Duration) async throws -> Bool {
        try await wait(timeout: timeout.inSeconds)
    }
}

extension Lock {
    /// Waits up to `timeout` for the lock; ``acquire(timeout:)`` with a `Duration`.
    ///
    /// - Returns: whether it was taken.
    /// - Throws: what ``acquire(timeout:)`` throws.
    public func acquire(timeout: Duration) async throws -> Bool {
        try await acquire(timeout: timeout.inSeconds)
    }
}

extension RLock {
    /// Waits up to `timeout` for the lock; ``acquire(timeout:)`` with a `Duration`.
    ///
    /// - Returns: whether it was taken.
    /// - Throws: what ``acquire(timeout:)`` throws.
    public func acquire(timeout: Duration) async throws -> Bool {
        try await acquire(timeout: timeout.inSeconds)
    }
}

extension Semaphore {
    /// Waits up to `timeout` for a permit; ``acquire(timeout:)`` with a `Duration`.
    ///
    /// - Returns: whether a permit was taken.
    /// - Throws: what ``acquire(timeout:)`` throws.
    public func acquire(timeout: Duration) async throws -> Bool {
        try await acquire(timeout: timeout.inSeconds)
    }
}

extension BoundedSemaphore {
    /// Waits up to `timeout` for a permit; ``acquire(timeout:)`` with a `Duration`.
    ///
    /// - Returns: whether a permit was taken.
    /// - Throws: what ``acquire(timeout:)`` throws.
    public func acquire(timeout: Duration) async throws -> Bool {
        try await acquire(timeout: timeout.inSeconds)
    }
}

extension GreenletQueue {
    /// Puts `item`, waiting up to `timeout` for room; ``put(_:timeout:)`` with a `Duration`.
    ///
    /// - Throws: what ``put(_:timeout:)`` throws (``QueueError/full`` when `timeout` passes).
    public nonisolated(nonsending) func put(_ item: Element, timeout: Duration) async throws {
        try await put(item, timeout: timeout.inSeconds)
    }

    /// Takes the next item, waiting up to `timeout`; ``get(timeout:)`` with a `Duration`.
    ///
    /// - Throws: what ``get(timeout:)`` throws (``QueueError/empty`` when `timeout` passes).
    public nonisolated(nonsending) func get(timeout: Duration) async throws -> Element {
        try await get(timeout: timeout.inSeconds)
    }
}

extension Channel {
    /// Hands `item` to a getter, waiting up to `timeout`; ``put(_:timeout:)`` with a `Duration`.
    ///
    /// - Throws: what ``put(_:timeout:)`` throws (``QueueError/full`` when `timeout` passes).
    public nonisolated(nonsending) func put(_ item: Element, timeout: Duration) async throws {
        try await put(item, timeout: timeout.inSeconds)
    }

    /// Takes the next item, waiting up to `timeout`; ``get(timeout:)`` with a `Duration`.
    ///
    /// - Throws: what ``get(timeout:)`` throws (``QueueError/empty`` when `timeout` passes).
    public nonisolated(nonsending) func get(timeout: Duration) async throws -> Element {
        try await get(timeout: timeout.inSeconds)
    }
}
