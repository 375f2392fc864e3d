/// A request the ``HTTPServer`` received: head and whole body.
public struct HTTPServerRequest: Sendable {
    /// The method, such as `GET`.
    public var method: HTTPMethod
    /// The request target as sent: path and query, such as `/search?q=sprout`.
    public var target: String
    /// The minor version of HTTP/1.x (0 or 1).
    public var minorVersion: Int
    /// The header fields.
    public var headers: HTTPHeaders
    /// The body, decoded from any chunked transfer encoding.
    public var body: [UInt8]

    /// A request; the server's parser builds these.
    public init(method: HTTPMethod, target: String, minorVersion: Int = 1, headers: HTTPHeaders = [:], body: [UInt8] = []) {
        self.method = method
        self.target = target
        self.minorVersion = minorVersion
        self.headers = headers
        self.body = body
    }

    /// The target's path, without the query.
    public var path: String {
        guard let mark = target.firstIndex(of: "?") else { return target }
        return String(target[..<mark])
    }

    /// The target's query (after `?`), or `nil`.
    public var query: String? {
        guard let mark = target.firstIndex(of: "?") else { return nil }
        return String(target[target.index(after: mark)...])
    }

    /// The body decoded as UTF-8 (invalid sequences become U+FFFD).
    public var text: String { String(decoding: body, as: UTF8.self) }

    /// Whether the client wants the connection kept open after this exchange
    /// (HTTP/1.1 unless `Connection: close`; HTTP/1.0 only with `Connection: keep-alive`).
    public var keepAlive: Bool {
        let connection = headers["Connection"]?.lowercased() ?? ""
        if minorVersion >= 1 { return !connection.contains("close") }
        return connection.contains("keep-alive")
    }
}
