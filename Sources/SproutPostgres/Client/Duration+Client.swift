import Sprout

// The PostgreSQL client's calls that take a time, with a `Duration` beside `Double` seconds,
// as Swift's own `Task.sleep(for:)` does: `db.query(sql, timeout: .seconds(5))`. Each
// forwards to its `Double` twin.

extension PostgresConnection {
    /// Connects to `url`, giving up after `timeout`; `connect(_:timeout:)` with a `Duration`.
    ///
    /// - Returns: the connection.
    /// - Throws: what `connect(_:timeout:)` throws (``PostgresError``, `CancellationError`).
    public static func connect(_ url: String, timeout: Duration) async throws -> PostgresConnection {
        try await connect(url, timeout: timeout.inSeconds)
    }

    /// Runs one statement, giving up after `timeout`; `query(_:_:timeout:)` with a `Duration`.
    ///
    /// - Returns: its rows.
    /// - Throws: what `query(_:_:timeout:)` throws (``PostgresError``; after `timeout`,
    ///   ``PostgresError/timedOut(seconds:)`` and the connection is closed).
    public func query(_ sql: String, _ parameters: [PostgresValue] = [], timeout: Duration) async throws -> PostgresResult {
        try await query(sql, parameters, timeout: timeout.inSeconds)
    }

    /// Runs `sql` through the simple query protocol, giving up after `timeout`;
    /// `execute(_:timeout:)` with a `Duration`.
    ///
    /// - Throws: what `execute(_:timeout:)` throws (``PostgresError``).
    public func execute(_ sql: String, timeout: Duration) async throws {
        try await execute(sql, timeout: timeout.inSeconds)
    }

    /// Sends all `statements` in one round trip, giving up after `timeout`;
    /// `pipeline(_:timeout:)` with a `Duration`.
    ///
    /// - Returns: each statement's outcome, in order.
    /// - Throws: only what breaks the connection (as `query(_:_:timeout:)`).
    public func pipeline(_ statements: [PostgresStatement], timeout: Duration) async throws -> [Result<PostgresResult, PostgresError>] {
        try await pipeline(statements, timeout: timeout.inSeconds)
    }

    /// Waits up to `timeout` for the next notification; `nextNotification(timeout:)` with a
    /// `Duration`.
    ///
    /// - Returns: the notification, or `nil` if `timeout` passed first.
    /// - Throws: what `nextNotification(timeout:)` throws (``PostgresError``, `CancellationError`).
    public func nextNotification(timeout: Duration) async throws -> PostgresNotification? {
        try await nextNotification(timeout: timeout.inSeconds)
    }
}

extension PostgresPool {
    /// Runs one statement on a pooled connection, giving up after `timeout`;
    /// `query(_:_:timeout:)` with a `Duration`.
    ///
    /// - Returns: its rows.
    /// - Throws: what `query(_:_:timeout:)` throws (``PostgresError``, `CancellationError`).
    public func query(_ sql: String, _ parameters: [PostgresValue] = [], timeout: Duration) async throws -> PostgresResult {
        try await query(sql, parameters, timeout: timeout.inSeconds)
    }
}
