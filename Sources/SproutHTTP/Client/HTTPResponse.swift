/// A complete HTTP response: status, headers and the whole body.
public struct HTTPResponse: Sendable {
    /// The status code, such as 200.
    public let status: Int
    /// The header fields of the final response (after redirects).
    public let headers: HTTPHeaders
    /// The body bytes, decoded from any chunked transfer encoding.
    public let body: [UInt8]
    /// The URL that answered, after redirects.
    public let url: String

    /// The body decoded as UTF-8 (invalid sequences become U+FFFD).
    public var text: String { String(decoding: body, as: UTF8.self) }

    /// A response; the client builds these, tests and handlers may too.
    public init(status: Int, headers: HTTPHeaders, body: [UInt8], url: String) {
        self.status = status
        self.headers = headers
        self.body = body
        self.url = url
    }
}
