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
        guard let connection = headers["Connection"] else { return minorVersion >= 1 }
        if minorVersion >= 1 { return !hasToken(connection, "close") }
        return hasToken(connection, "keep-alive")
    }
}

/// Whether the comma-separated `list` holds `token` (ASCII case-insensitive), compared
/// byte by byte: this runs for every request.
private func hasToken(_ list: String, _ token: StaticString) -> Bool {
    let wanted = UnsafeBufferPointer(start: token.utf8Start, count: token.utf8CodeUnitCount)
    var bytes = list.utf8.makeIterator()
    var matched = 0
    var failed = false
    while true {
        let byte = bytes.next()
        if byte == nil || byte == UInt8(ascii: ",") {
            if !failed && matched == wanted.count { return true }
            if byte == nil { return false }
            matched = 0
            failed = false
            continue
        }
        if byte == 32 || byte == 9 { if matched > 0 && matched < wanted.count { failed = true }; continue }
        if failed || matched >= wanted.count || asciiLower(byte!) != wanted[matched] {
            failed = true
        } else {
            matched += 1
        }
    }
}
