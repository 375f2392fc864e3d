import Sprout

/// What a handler answers: status, headers and a body, either whole or written in chunks.
public struct HTTPServerResponse: Sendable {
    /// How the body is produced.
    public enum Body: Sendable {
        /// All bytes at once, sent with a `Content-Length`.
        case bytes([UInt8])
        /// Written piece by piece by the closure with chunked transfer encoding; if it
        /// throws, the connection is closed without the final chunk, so the client
        /// sees the body cut short.
        case stream(@Hub @Sendable (HTTPChunkWriter) async throws -> Void)
    }

    /// The status code.
    public var status: Int
    /// Header fields; `Content-Length`, `Transfer-Encoding` and `Connection` are set by the
    /// server, and `Date` unless given.
    public var headers: HTTPHeaders
    /// The body.
    public var body: Body

    /// A response with a whole body.
    public init(status: Int = 200, headers: HTTPHeaders = [:], body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = .bytes(body)
    }

    /// A response with a UTF-8 text body and a `text/plain` content type unless given.
    public init(status: Int = 200, headers: HTTPHeaders = [:], text: String) {
        var headers = headers
        if !headers.contains("Content-Type") { headers["Content-Type"] = "text/plain; charset=utf-8" }
        self.init(status: status, headers: headers, body: Array(text.utf8))
    }

    /// A response whose body `write` produces in chunks.
    public init(status: Int = 200, headers: HTTPHeaders = [:], stream write: @escaping @Hub @Sendable (HTTPChunkWriter) async throws -> Void) {
        self.status = status
        self.headers = headers
        body = .stream(write)
    }

    /// Checks what the server would otherwise write as given: the status and every header
    /// name and value. The server calls it before writing anything of the response.
    ///
    /// - Throws: ``HTTPResponseError`` for a status outside `100...999`, a header name
    ///   that is not a token, a header value with CR, LF, NUL or another control byte.
    public func validate() throws(HTTPResponseError) {
        guard (100...999).contains(status) else { throw .invalidStatus(status) }
        for field in headers { try HTTPResponseEncoder.check(field) }
    }
}
