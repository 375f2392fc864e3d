/// One HTTP request for ``HTTPClient/send(_:)``: method, URL, headers, body and its limits.
public struct HTTPRequest: Sendable {
    /// The absolute `http://` or `https://` URL.
    public var url: String
    /// The method; `GET` by default.
    public var method: HTTPMethod
    /// Header fields sent with the request.
    public var headers: HTTPHeaders
    /// The request body, sent with a `Content-Length`; `nil` for none.
    public var body: [UInt8]?
    /// Seconds allowed to establish the connection (including TLS); `nil` for the client's default.
    public var connectTimeout: Double?
    /// Seconds allowed for the whole exchange, body included; `nil` for no limit.
    public var timeout: Double?
    /// Whether 3xx answers with a `Location` are followed.
    public var followRedirects: Bool
    /// How many redirects are followed before ``HTTPError/tooManyRedirects(url:)``.
    public var maxRedirects: Int
    /// The longest response body accepted, in bytes, before
    /// ``HTTPError/responseTooLarge(url:limit:)``; `nil` for the client's
    /// ``HTTPClient/Configuration/maxResponseBodyBytes``.
    public var maxBodyBytes: Int?

    /// A request; everything but the URL has a default.
    public init(
        url: String,
        method: HTTPMethod = .get,
        headers: HTTPHeaders = [:],
        body: [UInt8]? = nil,
        connectTimeout: Double? = nil,
        timeout: Double? = nil,
        followRedirects: Bool = true,
        maxRedirects: Int = 10,
        maxBodyBytes: Int? = nil
    ) {
        self.url = url
        self.method = method
        self.headers = headers
        self.body = body
        self.connectTimeout = connectTimeout
        self.timeout = timeout
        self.followRedirects = followRedirects
        self.maxRedirects = maxRedirects
        self.maxBodyBytes = maxBodyBytes
    }
}
