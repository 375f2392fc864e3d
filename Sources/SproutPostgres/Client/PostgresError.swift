/// What a PostgreSQL operation throws.
public enum PostgresError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The server answered a statement with an error; its fields are in `details`.
    case server(PostgresServerError)
    /// No connection could be made (bad URL, refused, authentication failed); libpq's message.
    case connectFailed(String)
    /// The connection broke (the server went away or terminated the session); libpq's message.
    case connectionLost(String)
    /// The connection was closed before or while the operation ran.
    case closed
    /// The operation did not finish within its timeout; the connection was closed, since
    /// its state is unknown.
    case timedOut(seconds: Double)
    /// No pooled connection came free within the acquire timeout.
    case poolTimedOut(seconds: Double)
    /// A field's binary form does not match its type.
    case malformedValue(oid: UInt32, String)
    /// The server sent something this client did not expect (a result of another kind).
    case unexpectedResult(String)

    /// The SQLSTATE of a server error (`"23505"` for a unique violation), else `nil`.
    public var sqlState: String? {
        if case .server(let error) = self { return error.sqlState }
        return nil
    }

    /// True for the errors that end a connection rather than a statement: remaking the
    /// connection may help. A server error of severity `FATAL` or `PANIC` is one: the server
    /// has ended the session (`pg_terminate_backend`, a shutdown: SQLSTATE 57P01).
    public var isConnectionFault: Bool {
        switch self {
        case .connectFailed, .connectionLost, .closed, .timedOut: return true
        case .server(let error): return error.severity == "FATAL" || error.severity == "PANIC"
        default: return false
        }
    }

    /// A one-line account of the error.
    public var description: String {
        switch self {
        case .server(let error): return error.description
        case .connectFailed(let message): return "PostgreSQL: could not connect: \(message)"
        case .connectionLost(let message): return "PostgreSQL: connection lost: \(message)"
        case .closed: return "PostgreSQL: the connection is closed"
        case .timedOut(let seconds): return "PostgreSQL: no answer within \(seconds) s (connection closed)"
        case .poolTimedOut(let seconds): return "PostgreSQL: no pooled connection free within \(seconds) s"
        case .malformedValue(let oid, let message): return "PostgreSQL: malformed value of type \(oid): \(message)"
        case .unexpectedResult(let message): return "PostgreSQL: unexpected result: \(message)"
        }
    }
}

/// The fields of an error the server reported for a statement.
public struct PostgresServerError: Sendable, Equatable, CustomStringConvertible {
    /// The five-character SQLSTATE code, e.g. `"42P01"` (undefined table).
    public let sqlState: String
    /// `ERROR`, `FATAL` or `PANIC`.
    public let severity: String
    /// The primary message.
    public let message: String
    /// The optional detail line.
    public let detail: String?
    /// The optional hint.
    public let hint: String?

    /// Makes one, as the client does from a failed result (public for tests and wrappers).
    public init(sqlState: String, severity: String, message: String, detail: String? = nil, hint: String? = nil) {
        self.sqlState = sqlState
        self.severity = severity
        self.message = message
        self.detail = detail
        self.hint = hint
    }

    /// `severity SQLSTATE: message`, with the detail if any.
    public var description: String {
        "PostgreSQL \(severity) \(sqlState): \(message)" + (detail.map { " (\($0))" } ?? "")
    }
}
