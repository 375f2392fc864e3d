import CLibuv

/// An I/O operation that failed — on a socket, stream, pipe, file, name lookup, signal
/// watch or subprocess: what was done, to what, and the system's error for it, e.g.
/// `connect 127.0.0.1:9: ECONNREFUSED (connection refused)`.
///
/// Everything in `IO/` throws this type (functions that cannot also be cancelled say so with
/// `throws(IOError)`); the hub's own failures are ``HubError``.
public struct IOError: Error, Equatable, CustomStringConvertible, Sendable {
    /// What failed, e.g. `connect`, `read from`, `write to`, `accept on`, `listen`,
    /// `resolve`, `open`.
    public let operation: String
    /// What it was done to, where known: a peer's address (`127.0.0.1:9`, `[::1]:80`), a
    /// Unix socket's or a file's path, a host name being resolved, a pipe's label.
    public let peer: String?
    /// libuv's (negative) error code: `-errno` for a failed system call
    /// (`UV_ECONNREFUSED == -ECONNREFUSED`), or one of the resolver's `UV_EAI_*` codes.
    public let code: Int32

    package init(code: Int32, operation: String, peer: String? = nil) {
        self.code = code
        self.operation = operation
        self.peer = peer
    }

    /// The system's error number (`ECONNREFUSED`, `ENOENT`), or `nil` for an error that has
    /// none: a resolver's (`EAI_NONAME`) or libuv's own end of stream (`EOF`).
    public var errno: Int32? {
        // libuv passes system errors through as -errno; its own codes start at -3000.
        code < 0 && code > -3000 ? -code : nil
    }

    /// libuv's name for the error, e.g. `ECONNREFUSED`, `EAI_NONAME`, `EOF`.
    public var name: String { String(cString: uv_err_name(code)) }
    /// libuv's message for the error, e.g. `connection refused`.
    public var message: String { String(cString: uv_strerror(code)) }

    /// `operation peer: NAME (message)`, e.g. `connect 127.0.0.1:9: ECONNREFUSED (connection refused)`.
    public var description: String {
        "\(operation)\(peer.map { " \($0)" } ?? ""): \(name) (\(message))"
    }
}
