// The greenlet calls that take a time, with a `Duration` beside `Double` seconds, as Swift's
// own `Task.sleep(for:)` does: `sleep(for: .milliseconds(10))`, `withTimeout(.seconds(5))`.

/// Suspends the calling greenlet for `duration`; ``sleep(_:)`` with a `Duration`.
///
/// - Throws: `CancellationError` if the greenlet is killed (or an enclosing timeout
///   expires) before or while it sleeps.
@Hub
public func sleep(for duration: Duration) async throws {
    try await sleep(duration.inSeconds)
}

/// Runs `body` with a deadline `duration` from now; ``withTimeout(_:_:)`` with a `Duration`.
///
/// - Throws: ``Timeout`` when the deadline passes; whatever `body` throws;
///   `CancellationError` if the calling greenlet is killed.
@Hub
public func withTimeout<T: Sendable>(
    _ duration: Duration,
    _ body: @escaping @Hub @Sendable () async throws -> T
) async throws -> T {
    try await withTimeout(duration.inSeconds, body)
}

/// Runs `body` with a deadline `duration` from now, returning `fallback` when it passes;
/// ``withTimeout(_:default:_:)`` with a `Duration`.
///
/// - Throws: whatever `body` throws; `CancellationError` if the calling greenlet is killed.
@Hub
public func withTimeout<T: Sendable>(
    _ duration: Duration,
    default fallback: T,
    _ body: @escaping @Hub @Sendable () async throws -> T
) async throws -> T {
    try await withTimeout(duration.inSeconds, default: fallback, body)
}

extension Joinable {
    /// Waits up to `timeout` for the item to finish; ``join(timeout:)`` with a `Duration`.
    ///
    /// - Returns: whether it finished in time.
    /// - Throws: `CancellationError` if the waiting greenlet is killed.
    @Hub
    public func join(timeout: Duration) async throws -> Bool {
        try await join(timeout: timeout.inSeconds)
    }

    /// Waits up to `timeout` for the item's value; ``get(timeout:)`` with a `Duration`.
    ///
    /// - Throws: what ``get(timeout:)`` throws: the item's error, ``Timeout`` when
    ///   `timeout` passes first, `CancellationError` if the waiting greenlet is killed.
    @Hub
    public func get(timeout: Duration) async throws -> Value {
        try await get(timeout: timeout.inSeconds)
    }
}

/// Waits up to `timeout` for greenlets (or process jobs);
/// ``joinAll(_:timeout:raiseError:count:)`` with a `Duration`.
///
/// - Throws: with `raiseError`, the first error; `CancellationError` if the waiting
///   greenlet is killed. A timeout is not an error: fewer items come back.
@Hub
@discardableResult
public func joinAll(
    _ items: [any Joinable],
    timeout: Duration,
    raiseError: Bool = false,
    count: Int? = nil
) async throws -> [any Joinable] {
    try await joinAll(items, timeout: timeout.inSeconds, raiseError: raiseError, count: count)
}

/// Waits up to `timeout` for greenlets (or process jobs) of one type;
/// ``joinAll(_:timeout:raiseError:count:)`` with a `Duration`.
///
/// - Throws: with `raiseError`, the first error; `CancellationError` if the waiting
///   greenlet is killed. A timeout is not an error: fewer items come back.
@Hub
@discardableResult
public func joinAll<Item: Joinable>(
    _ items: [Item],
    timeout: Duration,
    raiseError: Bool = false,
    count: Int? = nil
) async throws -> [Item] {
    try await joinAll(items, timeout: timeout.inSeconds, raiseError: raiseError, count: count)
}

extension Greenlet {
    /// Kills the greenlet, waiting up to `timeout` for it to end when `block` is true;
    /// ``kill(block:timeout:)`` with a `Duration`.
    ///
    /// - Throws: `CancellationError` if the killing greenlet is itself killed while waiting.
    @Hub
    public func kill(block: Bool = true, timeout: Duration) async throws {
        try await kill(block: block, timeout: timeout.inSeconds)
    }
}

/// Starts `body` as a greenlet after `delay`; `spawnLater(_:name:file:line:_:)` with a
/// `Duration`.
@discardableResult
public func spawnLater<Value: Sendable>(
    _ delay: Duration,
    name: String? = nil,
    file: StaticString = #fileID,
    line: UInt = #line,
    _ body: @escaping @Hub @Sendable () async throws -> Value
) -> Greenlet<Value> {
    spawnLater(delay.inSeconds, name: name, file: file, line: line, body)
}

/// Yields items as they finish, for up to `timeout`; `iwait(_:timeout:count:)` with a
/// `Duration`. When time runs out the sequence ends, as gevent's `iwait` does.
public func iwait<Item: Joinable>(_ items: [Item], timeout: Duration, count: Int? = nil) -> CompletionSequence<Item> {
    iwait(items, timeout: timeout.inSeconds, count: count)
}

/// Yields items of mixed types as they finish, for up to `timeout`;
/// `iwait(_:timeout:count:)` with a `Duration`.
public func iwait(_ items: [any Joinable], timeout: Duration, count: Int? = nil) -> CompletionSequence<any Joinable> {
    iwait(items, timeout: timeout.inSeconds, count: count)
}

/// Yields items as they finish; `asCompleted(_:timeout:)` with a `Duration`.
/// Iterating throws ``Timeout`` when `timeout` passes first.
public func asCompleted<Item: Joinable>(_ items: [Item], timeout: Duration) -> CompletionSequence<Item> {
    asCompleted(items, timeout: timeout.inSeconds)
}

/// Waits until no other greenlet runs, for up to `timeout`; `waitForAll(timeout:)` with a
/// `Duration`.
///
/// - Returns: `true` once no other greenlet runs, `false` if `timeout` passed first.
/// - Throws: `CancellationError` if the waiting greenlet is killed.
@Hub
@discardableResult
public func waitForAll(timeout: Duration) async throws -> Bool {
    try await waitForAll(timeout: timeout.inSeconds)
}
