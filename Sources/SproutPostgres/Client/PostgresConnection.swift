import CLibpq
import Sprout

#if canImport(Glibc)
import Glibc
#endif

/// One PostgreSQL session driven by the hub, the way the HTTP client drives libcurl: libpq
/// in non-blocking mode, its socket watched by the loop, no thread of its own. Greenlets
/// that share a connection take turns (one statement at a time); use a ``PostgresPool``
/// for parallel statements.
///
/// ```swift
/// let db = try await PostgresConnection.connect("postgresql://postgres@127.0.0.1:5432/postgres")
/// let rows = try await db.query("SELECT id, name FROM users WHERE id = $1", [42]).rows
/// ```
///
/// A statement interrupted by its timeout or by killing its greenlet closes the connection
/// (the server rolls back what was open): what the server would still send is unknown.
@Hub
public final class PostgresConnection {
    private let conn: OpaquePointer
    private var watcher: FDWatcher
    /// One statement at a time owns the socket's answers.
    private let turn = Lock()
    private var notifications: [PostgresNotification] = []
    private var notificationsRead = 0
    /// Set when notifications arrive or a statement ends, for greenlets in ``nextNotification(timeout:)``.
    private let notificationWakeup = Event()
    /// Statements prepared on the server: parsed and planned once, not at every run.
    private var prepared: [PreparedKey: String] = [:]
    /// How often each statement not yet prepared has run (bounded: cleared past 1,000 entries).
    private var runs: [PreparedKey: Int] = [:]
    private var preparedCount = 0

    /// True once ``close()`` ran or the connection broke.
    public private(set) var isClosed = false
    /// The process id of the server session (what `pg_terminate_backend` takes).
    public let backendPID: Int32
    /// Seconds a statement given no timeout of its own may take
    /// (``defaultStatementTimeout`` unless set; `nil`: no bound): a server that hangs
    /// (stopped, its disk blocked) would otherwise keep the caller waiting for ever. Past it
    /// the statement throws ``PostgresError/timedOut(seconds:)`` and the connection is
    /// closed, as with a statement's own timeout.
    public var statementTimeout: Double? = defaultStatementTimeout

    /// The bound on a statement given no timeout of its own, unless ``statementTimeout`` is
    /// set otherwise: 30 seconds (a ``PostgresPool``'s connections and a job queue's use it too).
    public static let defaultStatementTimeout = 30.0

    /// True when the session is open and not inside a transaction block.
    var isIdleOutsideTransaction: Bool {
        !isClosed && PQtransactionStatus(conn) == PQTRANS_IDLE
    }

    private init(conn: OpaquePointer, watcher: FDWatcher) {
        self.conn = conn
        self.watcher = watcher
        backendPID = PQbackendPID(conn)
    }

    isolated deinit {
        close()
    }

    /// Connects to `url` (`postgresql://user:password@host:port/database?options`, or any
    /// libpq connection string) without blocking the hub.
    ///
    /// - Throws: ``PostgresError/connectFailed(_:)`` with libpq's message;
    ///   ``PostgresError/timedOut(seconds:)`` after `timeout`; `CancellationError` if killed.
    public static func connect(_ url: String, timeout: Double? = 10) async throws -> PostgresConnection {
        guard let conn = PQconnectStart(url) else { throw PostgresError.connectFailed("out of memory") }
        guard PQstatus(conn) != CONNECTION_BAD else {
            let message = errorMessage(conn)
            PQfinish(conn)
            throw PostgresError.connectFailed(message)
        }
        let deadline = Deadline(timeout: timeout)
        var watcher: FDWatcher?
        do {
            // libpq's protocol: start as if the last poll said "writing".
            var state = PGRES_POLLING_WRITING
            while state != PGRES_POLLING_OK {
                // libpq may close its socket and open another (the next address, a retry
                // without SSL), often under the same number: watch afresh every round.
                watcher?.close()
                watcher = try FDWatcher(fd: PQsocket(conn))
                try await Self.wait(on: watcher!, readable: state == PGRES_POLLING_READING, deadline)
                state = PQconnectPoll(conn)
                if state == PGRES_POLLING_FAILED { throw PostgresError.connectFailed(errorMessage(conn)) }
            }
            PQsetnonblocking(conn, 1)
            // Notices (`CREATE … IF NOT EXISTS` skipping) are not errors: libpq would print
            // them on standard error.
            PQsetNoticeProcessor(conn, { _, _ in }, nil)
            return PostgresConnection(conn: conn, watcher: watcher!)
        } catch {
            watcher?.close()
            PQfinish(conn)
            if case .timedOut = error as? PostgresError { throw PostgresError.timedOut(seconds: timeout ?? 0) }
            if let error = error as? HubError { throw PostgresError.connectFailed(error.description) }
            throw error
        }
    }

    /// Runs one statement with `$1`, `$2`… bound to `parameters` and returns its rows
    /// (decoded from PostgreSQL's binary format, see ``PostgresValue``).
    ///
    /// A statement run ``prepareThreshold`` times on this connection (the same text and
    /// parameter kinds) is then prepared on the server, as psycopg does: parsed and planned
    /// once instead of at every run (the job queue's statements spend most of their server
    /// time there). At most 100 per connection. If the server drops one (`DEALLOCATE`,
    /// `DISCARD`) or can no longer use its plan (a table's columns changed), it is forgotten
    /// and, outside a transaction, the statement runs again unprepared; inside one, the
    /// server's error is thrown.
    /// Without a `timeout` the connection's ``statementTimeout`` bounds it; the bound covers
    /// the whole call, preparing included.
    ///
    /// - Throws: ``PostgresError/server(_:)`` with the SQLSTATE for an error the server
    ///   reports (the connection stays usable); ``PostgresError/connectionLost(_:)``,
    ///   ``PostgresError/closed``, ``PostgresError/timedOut(seconds:)`` (the connection is
    ///   closed); `CancellationError` if killed (the connection is closed).
    @discardableResult
    public func query(_ sql: String, _ parameters: [PostgresValue] = [], timeout: Double? = nil) async throws -> PostgresResult {
        let statement = PostgresStatement(sql, parameters)
        let key = PreparedKey(sql: sql, types: Self.types(of: parameters))
        // Preparing is a round trip of its own: one bound for it and the run, so a server
        // that hangs cannot hold the caller twice the timeout.
        let bound = statementBound(timeout)
        if let name = try await preparedName(for: key, within: bound) {
            let outcome = try await exchange(within: bound, expecting: 1) { conn in
                Self.send(statement, on: conn, prepared: name)
            }[0]
            guard case .failure(let error) = outcome, let sqlState = error.sqlState,
                  Self.invalidatesPrepared.contains(sqlState) else { return try outcome.get() }
            prepared[key] = nil
            // The failed run changed nothing; in a transaction, though, it aborted it.
            guard isIdleOutsideTransaction else { throw error }
        }
        let outcomes = try await exchange(within: bound, expecting: 1) { conn in
            Self.send(statement, on: conn)
        }
        return try outcomes[0].get()
    }

    /// How many runs of a statement on one connection make it a prepared one (psycopg's
    /// default `prepare_threshold`).
    public static let prepareThreshold = 5

    /// SQLSTATEs of a prepared statement the server can no longer run as prepared:
    /// `26000` (it was deallocated), `0A000` (its cached plan's result type changed).
    private static let invalidatesPrepared: Set<String> = ["26000", "0A000"]

    /// The server-side name of `key`'s statement, preparing it now if this is its
    /// ``prepareThreshold``th run; `nil` while it runs unprepared.
    ///
    /// - Throws: the server's error if preparing fails (it is the statement's own: it
    ///   would not parse or its parameters cannot be typed); what breaks the connection.
    private func preparedName(for key: PreparedKey, within bound: StatementBound) async throws -> String? {
        if let name = prepared[key] { return name }
        guard prepared.count < 100 else { return nil }
        let count = (runs[key] ?? 0) + 1
        guard count >= Self.prepareThreshold else {
            if runs.count >= 1000 { runs.removeAll() }
            runs[key] = count
            return nil
        }
        runs[key] = nil
        preparedCount += 1
        let name = "sprout_\(preparedCount)"
        _ = try await exchange(within: bound, expecting: 1) { conn in
            PQsendPrepare(conn, name, key.sql, Int32(key.types.count), key.types) == 1
        }[0].get()
        prepared[key] = name
        return name
    }

    /// Runs `sql`, which may hold several statements separated by `;`, through the simple
    /// query protocol (no parameters, no rows returned): for schema scripts.
    ///
    /// - Throws: as ``query(_:_:timeout:)``; the first failing statement's error.
    public func execute(_ sql: String, timeout: Double? = nil) async throws {
        let outcomes = try await exchange(within: statementBound(timeout), expecting: 1) { conn in PQsendQuery(conn, sql) == 1 }
        _ = try outcomes[0].get()
    }

    /// Sends all `statements` at once in libpq's pipeline mode (one round trip for the lot)
    /// and returns each one's outcome in order. After a failing statement the rest are
    /// skipped by the server and fail with ``PostgresError/unexpectedResult(_:)``.
    ///
    /// - Throws: only what breaks the connection (as ``query(_:_:timeout:)``); statement
    ///   errors are in the returned outcomes.
    public func pipeline(_ statements: [PostgresStatement], timeout: Double? = nil) async throws -> [Result<PostgresResult, PostgresError>] {
        guard !statements.isEmpty else { return [] }
        return try await exchange(within: statementBound(timeout), expecting: statements.count, pipelined: true) { conn in
            guard PQenterPipelineMode(conn) == 1 else { return false }
            for statement in statements where !Self.send(statement, on: conn) { return false }
            return PQpipelineSync(conn) == 1
        }
    }

    /// Runs `body` inside `BEGIN` … `COMMIT`; rolls back and rethrows if `body` throws.
    /// If the rollback itself cannot run (the greenlet was killed) the connection is closed,
    /// which makes the server roll back.
    ///
    /// - Throws: what `body` throws, or what `BEGIN`/`COMMIT` throw (as ``query(_:_:timeout:)``).
    @discardableResult
    public func transaction<T>(_ body: @Hub (PostgresConnection) async throws -> T) async throws -> T {
        try await query("BEGIN")
        let value: T
        do {
            value = try await body(self)
        } catch {
            do { try await query("ROLLBACK") } catch { close() }
            throw error
        }
        try await query("COMMIT")
        return value
    }

    /// `LISTEN`s on `channel` (quoted, so any name works); notifications are then read
    /// with ``nextNotification(timeout:)`` or ``notificationStream()``.
    ///
    /// - Throws: as ``query(_:_:timeout:)``.
    public func listen(_ channel: String) async throws {
        try await execute("LISTEN " + Self.quoteIdentifier(channel))
    }

    /// Stops listening on `channel`.
    ///
    /// - Throws: as ``query(_:_:timeout:)``.
    public func unlisten(_ channel: String) async throws {
        try await execute("UNLISTEN " + Self.quoteIdentifier(channel))
    }

    /// Sends `payload` on `channel` (`pg_notify`), delivered when the current transaction commits.
    ///
    /// - Throws: as ``query(_:_:timeout:)``.
    public func notify(_ channel: String, payload: String = "") async throws {
        try await query("SELECT pg_notify($1, $2)", [.text(channel), .text(payload)])
    }

    /// Waits for the next notification on a channel this connection listens on, while other
    /// greenlets may run statements on it; `nil` if `timeout` passes first.
    ///
    /// - Throws: ``PostgresError/connectionLost(_:)`` or ``PostgresError/closed`` (after
    ///   the ones already received); `CancellationError` if killed.
    public func nextNotification(timeout: Double? = nil) async throws -> PostgresNotification? {
        let deadline = Deadline(timeout: timeout)
        while true {
            if notificationsRead < notifications.count {
                let notification = notifications[notificationsRead]
                notificationsRead += 1
                if notificationsRead == notifications.count {
                    notifications.removeAll(keepingCapacity: true)
                    notificationsRead = 0
                }
                return notification
            }
            guard !isClosed else { throw PostgresError.closed }
            guard deadline?.hasPassed != true else { return nil }
            if turn.isLocked {
                // A statement owns the socket; it collects notifications as it reads.
                notificationWakeup.clear()
                guard try await notificationWakeup.wait(timeout: deadline?.secondsLeft) else { return nil }
            } else {
                do {
                    try await Self.wait(on: watcher, readable: true, deadline)
                } catch PostgresError.timedOut {
                    return nil
                }
                guard !isClosed else { throw PostgresError.closed }
                try consumeInput()
            }
        }
    }

    /// The notifications as an async sequence that ends with an error when the
    /// connection closes or breaks.
    public func notificationStream() -> PostgresNotificationStream {
        PostgresNotificationStream(connection: self)
    }

    /// Whether the session is still open, judged from what the server sent while no statement
    /// ran, read without waiting: a server that restarted or terminated the session has
    /// closed its end, which only a read shows. Closes the connection when it has ended, so
    /// a caller can connect anew before sending a statement that must not be sent twice.
    var isAlive: Bool {
        guard !isClosed else { return false }
        guard !turn.isLocked else { return true }
        // A session the server ended sends its last message (FATAL 57P01 on a shutdown, read
        // as a notice) and then end of file: one read takes the message, the next the end.
        for _ in 0..<4 {
            do {
                try consumeInput()
            } catch {
                return false
            }
            guard PQstatus(conn) != CONNECTION_BAD else {
                close()
                return false
            }
            var socket = pollfd(fd: PQsocket(conn), events: Int16(POLLIN), revents: 0)
            guard poll(&socket, 1, 0) > 0 else { return true }
        }
        return true
    }

    /// Closes the session and its socket; pending and later operations throw
    /// ``PostgresError/closed``. Closing twice does nothing.
    public func close() {
        guard !isClosed else { return }
        isClosed = true
        watcher.close()
        PQfinish(conn)
        notificationWakeup.set()
    }

    // MARK: - The exchange with the server

    /// The bound of a call given `timeout` (the connection's ``statementTimeout`` without
    /// one), starting now.
    private func statementBound(_ timeout: Double?) -> StatementBound {
        let seconds = timeout ?? statementTimeout
        return StatementBound(seconds: seconds, deadline: Deadline(timeout: seconds))
    }

    /// Takes the turn, sends through `send`, flushes, and reads `expecting` statements'
    /// outcomes (and, when `pipelined`, the pipeline's sync point), all before `bound`'s deadline.
    private func exchange(
        within bound: StatementBound, expecting count: Int, pipelined: Bool = false,
        send: (OpaquePointer) -> Bool
    ) async throws -> [Result<PostgresResult, PostgresError>] {
        guard !isClosed else { throw PostgresError.closed }
        let timeout = bound.seconds
        let deadline = bound.deadline
        guard try await turn.acquire(timeout: deadline?.secondsLeft) else { throw PostgresError.timedOut(seconds: timeout ?? 0) }
        defer {
            try? turn.release()
            notificationWakeup.set()
        }
        guard !isClosed else { throw PostgresError.closed }
        do {
            guard send(conn) else { throw brokenOrUnexpected() }
            try await flush(deadline)
            var outcomes: [Result<PostgresResult, PostgresError>] = []
            for _ in 0..<count {
                var outcome: Result<PostgresResult, PostgresError>?
                while let result = try await nextResult(deadline) {
                    // A simple query of several statements gives several results: keep the
                    // first failure, else the last result.
                    let converted = convert(result)
                    PQclear(result)
                    if case .failure = outcome {} else { outcome = converted }
                }
                outcomes.append(outcome ?? .failure(.unexpectedResult("no result")))
            }
            if pipelined {
                guard let sync = try await nextResult(deadline) else { throw PostgresError.unexpectedResult("no pipeline sync") }
                let status = PQresultStatus(sync)
                PQclear(sync)
                guard status == PGRES_PIPELINE_SYNC, PQexitPipelineMode(conn) == 1 else {
                    throw PostgresError.unexpectedResult("pipeline did not end at its sync point")
                }
            }
            drainNotifications()
            if PQstatus(conn) == CONNECTION_BAD { throw brokenOrUnexpected() }
            return outcomes
        } catch let error as PostgresError {
            if case .server = error {} else { close() }
            if case .timedOut = error { throw PostgresError.timedOut(seconds: timeout ?? 0) }
            throw error
        } catch {
            close()
            throw error
        }
    }

    /// Sends what libpq has buffered, reading meanwhile so a server that is itself blocked
    /// writing to us cannot deadlock the exchange.
    private func flush(_ deadline: Deadline?) async throws {
        while true {
            let status = PQflush(conn)
            if status == 0 { return }
            if status < 0 { throw brokenOrUnexpected() }
            try await Self.wait(on: watcher, readable: false, deadline)
            guard !isClosed else { throw PostgresError.closed }
            try consumeInput()
        }
    }

    /// The next result once libpq has read it whole, or `nil` at the end of a statement.
    private func nextResult(_ deadline: Deadline?) async throws -> OpaquePointer? {
        while PQisBusy(conn) == 1 {
            try await Self.wait(on: watcher, readable: true, deadline)
            guard !isClosed else { throw PostgresError.closed }
            try consumeInput()
        }
        return PQgetResult(conn)
    }

    /// Waits until `watcher`'s socket is ready. A poll error (a refused or reset socket)
    /// counts as ready: libpq's next call finds out what happened and says so.
    ///
    /// - Throws: ``PostgresError/timedOut(seconds:)``; ``PostgresError/closed`` if the
    ///   watcher was closed meanwhile; `CancellationError` if killed.
    private static func wait(on watcher: FDWatcher, readable: Bool, _ deadline: Deadline?) async throws {
        guard deadline?.hasPassed != true else { throw PostgresError.timedOut(seconds: 0) }
        let ready: Bool
        do {
            ready = readable
                ? try await watcher.waitReadable(timeout: deadline?.secondsLeft)
                : try await watcher.waitWritable(timeout: deadline?.secondsLeft)
        } catch let error as HubError where error.code == -ECANCELED {
            throw PostgresError.closed
        } catch is HubError {
            return
        }
        guard ready else { throw PostgresError.timedOut(seconds: 0) }
    }

    private func consumeInput() throws(PostgresError) {
        guard PQconsumeInput(conn) == 1 else {
            let message = Self.errorMessage(conn)
            close()
            throw .connectionLost(message)
        }
        drainNotifications()
    }

    private func drainNotifications() {
        var arrived = false
        while let notify = PQnotifies(conn) {
            notifications.append(PostgresNotification(
                channel: String(cString: notify.pointee.relname),
                payload: String(cString: notify.pointee.extra),
                senderPID: notify.pointee.be_pid))
            PQfreemem(notify)
            arrived = true
        }
        if arrived { notificationWakeup.set() }
    }

    private func brokenOrUnexpected() -> PostgresError {
        let message = Self.errorMessage(conn)
        return PQstatus(conn) == CONNECTION_BAD ? .connectionLost(message) : .unexpectedResult(message)
    }

    private func convert(_ result: OpaquePointer) -> Result<PostgresResult, PostgresError> {
        switch PQresultStatus(result) {
        case PGRES_TUPLES_OK, PGRES_COMMAND_OK, PGRES_EMPTY_QUERY:
            return Result { () throws(PostgresError) in try Self.rows(of: result) }
        case PGRES_FATAL_ERROR, PGRES_NONFATAL_ERROR:
            func field(_ code: Character) -> String? {
                PQresultErrorField(result, Int32(code.asciiValue!)).map { String(cString: $0) }
            }
            // libpq reports a broken connection as an error result without a SQLSTATE.
            guard let sqlState = field("C") else {
                let message = String(cString: PQresultErrorMessage(result))
                return .failure(PQstatus(conn) == CONNECTION_BAD ? .connectionLost(message) : .unexpectedResult(message))
            }
            return .failure(.server(PostgresServerError(
                sqlState: sqlState, severity: field("V") ?? field("S") ?? "ERROR",
                message: field("M") ?? "", detail: field("D"), hint: field("H"))))
        case PGRES_PIPELINE_ABORTED:
            return .failure(.unexpectedResult("skipped: an earlier statement of the pipeline failed"))
        default:
            return .failure(.unexpectedResult(String(cString: PQresStatus(PQresultStatus(result)))))
        }
    }

    private static func rows(of result: OpaquePointer) throws(PostgresError) -> PostgresResult {
        let columnCount = Int(PQnfields(result))
        let columns = (0..<columnCount).map { String(cString: PQfname(result, Int32($0))) }
        let types = (0..<columnCount).map { UInt32(PQftype(result, Int32($0))) }
        let binary = (0..<columnCount).map { PQfformat(result, Int32($0)) == 1 }
        var rows: [PostgresRow] = []
        let rowCount = Int(PQntuples(result))
        rows.reserveCapacity(rowCount)
        for row in 0..<Int32(rowCount) {
            var values: [PostgresValue] = []
            values.reserveCapacity(columnCount)
            for column in 0..<Int32(columnCount) {
                if PQgetisnull(result, row, column) == 1 {
                    values.append(.null)
                    continue
                }
                let bytes = UnsafeRawBufferPointer(start: PQgetvalue(result, row, column), count: Int(PQgetlength(result, row, column)))
                // Only the simple query protocol (``execute``) yields text, and it returns no rows.
                values.append(binary[Int(column)] ? try PostgresValue.decode(oid: types[Int(column)], bytes)
                                                  : .text(String(decoding: bytes, as: UTF8.self)))
            }
            rows.append(PostgresRow(columns: columns, values: values))
        }
        let affected = Int(String(cString: PQcmdTuples(result))) ?? rowCount
        return PostgresResult(columns: columns, rows: rows, affectedRows: affected, command: String(cString: PQcmdStatus(result)))
    }

    /// Queues one parameterized statement, asking for binary results: the text itself, or
    /// the statement prepared under `name`.
    private static func send(_ statement: PostgresStatement, on conn: OpaquePointer, prepared name: String? = nil) -> Bool {
        let encoded = statement.parameters.map(\.parameter)
        // Text parameters are read up to their NUL; binary ones by their length.
        let storage = encoded.map { $0.bytes.map { UnsafeMutableBufferPointer<CChar>.allocate(capacity: $0.count + 1) } }
        defer { for buffer in storage { buffer?.deallocate() } }
        for (index, parameter) in encoded.enumerated() {
            guard let bytes = parameter.bytes, let buffer = storage[index] else { continue }
            bytes.withUnsafeBytes { source in UnsafeMutableRawBufferPointer(buffer).copyMemory(from: source) }
            buffer[bytes.count] = 0
        }
        let values: [UnsafePointer<CChar>?] = storage.map { $0.map { UnsafePointer($0.baseAddress!) } }
        let lengths = encoded.map { Int32($0.bytes?.count ?? 0) }
        let formats = encoded.map { Int32($0.binary ? 1 : 0) }
        if let name {
            return PQsendQueryPrepared(conn, name, Int32(values.count), values, lengths, formats, 1) == 1
        }
        let types = types(of: statement.parameters)
        return PQsendQueryParams(conn, statement.sql, Int32(values.count), types, values, lengths, formats, 1) == 1
    }

    /// The parameter types the server is told: bytea and explicit OIDs; 0 (inferred from
    /// the statement) for the rest.
    private static func types(of parameters: [PostgresValue]) -> [Oid] {
        parameters.map { value -> Oid in
            if case .bytes = value { return Oid(PostgresTypeOID.bytea) }
            if case .other(let oid, _) = value { return Oid(oid) }
            return 0
        }
    }

    private static func errorMessage(_ conn: OpaquePointer) -> String {
        guard let message = PQerrorMessage(conn) else { return "unknown error" }
        var text = String(cString: message)
        while text.last == "\n" { text.removeLast() }
        return text
    }

    private static func quoteIdentifier(_ name: String) -> String {
        "\"" + name.split(separator: "\"", omittingEmptySubsequences: false).joined(separator: "\"\"") + "\""
    }
}

/// How long a call may take: its seconds (for the error that says so) and the deadline they
/// set when the call began.
private struct StatementBound {
    let seconds: Double?
    let deadline: Deadline?
}

/// A statement as the server prepares it: its text and its parameters' declared types.
private struct PreparedKey: Hashable {
    let sql: String
    let types: [Oid]
}
