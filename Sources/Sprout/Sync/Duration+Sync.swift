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

extension GreenletQueue {
    /// Waits until every item put so far is marked done, for up to `timeout`;
    /// `join(timeout:)` with a `Duration`.
    ///
    /// - Returns: `false` if `timeout` passed first.
    /// - Throws: `CancellationError` if the greenlet is killed while waiting.
    @discardableResult
    public func join(timeout: Duration) async throws -> Bool {
        try await join(timeout: timeout.inSeconds)
    }
}

extension Group {
    /// Waits until the group is empty, for up to `timeout`; `join(timeout:raiseError:)` with
    /// a `Duration`.
    ///
    /// - Returns: `true` if the group emptied, `false` on timeout.
    /// - Throws: with `raiseError`, the first error a member ends with; `CancellationError`
    ///   if the waiting greenlet is killed.
    @discardableResult
    public func join(timeout: Duration, raiseError: Bool = false) async throws -> Bool {
        try await join(timeout: timeout.inSeconds, raiseError: raiseError)
    }

    /// Kills every greenlet in the group, waiting up to `timeout` for them when `block` is
    /// true; `kill(block:timeout:)` with a `Duration`.
    ///
    /// - Returns: `true` if the group is empty afterwards.
    /// - Throws: `CancellationError` if the killing greenlet is itself killed while waiting.
    @discardableResult
    public func kill(block: Bool = true, timeout: Duration) async throws -> Bool {
        try await kill(block: block, timeout: timeout.inSeconds)
    }
}

extension Pool {
    /// Waits until a slot is free, for up to `timeout`; `waitAvailable(timeout:)` with a
    /// `Duration`.
    ///
    /// - Returns: whether a slot is free.
    /// - Throws: `CancellationError` if the waiting greenlet is killed.
    @discardableResult
    public func waitAvailable(timeout: Duration) async throws -> Bool {
        try await waitAvailable(timeout: timeout.inSeconds)
    }

    /// Waits until the pool's greenlets have all finished, for up to `timeout`;
    /// `join(timeout:raiseError:)` with a `Duration`.
    ///
    /// - Returns: `false` if `timeout` passed first.
    /// - Throws: with `raiseError`, the first error a greenlet ends with;
    ///   `CancellationError` if the waiting greenlet is killed.
    @discardableResult
    public func join(timeout: Duration, raiseError: Bool = false) async throws -> Bool {
        try await join(timeout: timeout.inSeconds, raiseError: raiseError)
    }

    /// Kills the pool's greenlets, waiting up to `timeout` for them when `block` is true;
    /// `kill(block:timeout:)` with a `Duration`.
    ///
    /// - Returns: `true` if the pool is empty afterwards.
    /// - Throws: `CancellationError` if the killing greenlet is itself killed while waiting.
    @discardableResult
    public func kill(block: Bool = true, timeout: Duration) async throws -> Bool {
        try await kill(block: block, timeout: timeout.inSeconds)
    }
}
