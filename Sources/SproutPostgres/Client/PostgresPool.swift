import Sprout

/// A pool of connections to one server, opened on demand up to `maxConnections`; greenlets
/// borrow one with ``withConnection(_:)``. A connection that broke, timed out or was left
/// inside a transaction is closed instead of returned.
@Hub
public final class PostgresPool {
    /// The connection URL.
    public let url: String
    /// The most connections open at once.
    public let maxConnections: Int
    /// How long ``withConnection(_:)`` waits for a free connection.
    public let acquireTimeout: Double?
    /// The ``PostgresConnection/statementTimeout`` of each connection the pool opens: how
    /// long a statement given no timeout of its own may take before it throws
    /// ``PostgresError/timedOut(seconds:)`` (`nil`: no bound).
    public let statementTimeout: Double?
    private let permits: Semaphore
    private var idle: [PostgresConnection] = []
    private var closed = false

    /// A pool for `url`; opens nothing yet. Its connections bound each statement given no
    /// timeout by `statementTimeout` (30 s by default, as a lone connection's), so a server
    /// that hangs cannot hold a borrower for ever.
    public init(
        url: String, maxConnections: Int = 10, acquireTimeout: Double? = 10,
        statementTimeout: Double? = PostgresConnection.defaultStatementTimeout
    ) {
        self.url = url
        self.maxConnections = max(1, maxConnections)
        self.acquireTimeout = acquireTimeout
        self.statementTimeout = statementTimeout
        permits = Semaphore(value: max(1, maxConnections))
    }

    /// Runs `body` with a connection of its own, returned to the pool afterwards.
    ///
    /// - Throws: ``PostgresError/poolTimedOut(seconds:)`` if none is free within the
    ///   acquire timeout; ``PostgresError/closed`` after ``close()``; what connecting and
    ///   `body` throw; `CancellationError` if killed while waiting.
    public func withConnection<T>(_ body: @Hub (PostgresConnection) async throws -> T) async throws -> T {
        guard !closed else { throw PostgresError.closed }
        guard try await permits.acquire(timeout: acquireTimeout) else {
            throw PostgresError.poolTimedOut(seconds: acquireTimeout ?? 0)
        }
        defer { permits.release() }
        let connection: PostgresConnection
        if let reused = idle.popLast() {
            connection = reused
        } else {
            connection = try await PostgresConnection.connect(url)
            connection.statementTimeout = statementTimeout
        }
        do {
            let value = try await body(connection)
            giveBack(connection)
            return value
        } catch {
            giveBack(connection)
            throw error
        }
    }

    /// Runs one statement on a pooled connection (see ``PostgresConnection/query(_:_:timeout:)``).
    ///
    /// - Throws: as ``withConnection(_:)`` and ``PostgresConnection/query(_:_:timeout:)``.
    @discardableResult
    public func query(_ sql: String, _ parameters: [PostgresValue] = [], timeout: Double? = nil) async throws -> PostgresResult {
        try await withConnection { try await $0.query(sql, parameters, timeout: timeout) }
    }

    /// Closes the idle connections; later borrowing throws ``PostgresError/closed``, and
    /// connections still lent out are closed when they come back.
    public func close() {
        closed = true
        for connection in idle { connection.close() }
        idle = []
    }

    private func giveBack(_ connection: PostgresConnection) {
        if closed || connection.isClosed || !connection.isIdleOutsideTransaction {
            connection.close()
        } else {
            idle.append(connection)
        }
    }
}
