/// Why the server refused a request's bytes; each case is answered with its ``status``
/// and the connection is closed.
package enum HTTPParseError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The request is not valid HTTP/1.x (400).
    case badRequest(String)
    /// The declared or received body exceeds the server's limit (413).
    case bodyTooLarge(limit: Int)
    /// The request line and headers exceed the server's limits (431).
    case headersTooLarge(limit: Int)
    /// A transfer coding the server does not implement, such as `gzip, chunked` (501).
    case notImplemented(String)
    /// A major HTTP version other than 1 (505).
    case unsupportedVersion

    /// The status code this error is answered with.
    package var status: Int {
        switch self {
        case .badRequest: 400
        case .bodyTooLarge: 413
        case .headersTooLarge: 431
        case .notImplemented: 501
        case .unsupportedVersion: 505
        }
    }

    package var description: String {
        switch self {
        case .badRequest(let reason): "bad request: \(reason)"
        case .bodyTooLarge(let limit): "request body larger than \(limit) bytes"
        case .headersTooLarge(let limit): "request head larger than \(limit) bytes or too many fields"
        case .notImplemented(let what): "not implemented: \(what)"
        case .unsupportedVersion: "HTTP version not supported"
        }
    }
}
