import CLibuv

/// A libuv call that failed: the operation, libuv's error name and its message —
/// `connect 127.0.0.1:9: ECONNREFUSED (connection refused)` — never a bare number.
public struct HubError: Error, Equatable, CustomStringConvertible, Sendable {
    /// libuv's (negative) error code.
    public let code: Int32
    /// What Sprout was doing, e.g. `connect 127.0.0.1:9`.
    public let operation: String

    package init(code: Int32, operation: String) {
        self.code = code
        self.operation = operation
    }

    /// libuv's name for the error, e.g. `ECONNREFUSED`.
    public var name: String { String(cString: uv_err_name(code)) }
    /// libuv's message for the error, e.g. `connection refused`.
    public var message: String { String(cString: uv_strerror(code)) }

    public var description: String { "\(operation): \(name) (\(message))" }
}
