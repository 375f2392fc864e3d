/// A response whose head has arrived and whose body is read as it comes, from ``body``.
public struct HTTPStreamingResponse: Sendable {
    /// The status code, such as 200.
    public let status: Int
    /// The header fields of the final response (after redirects).
    public let headers: HTTPHeaders
    /// The URL that answered, after redirects.
    public let url: String
    /// The body as chunks of bytes; iterate it once. Dropping it unread aborts the transfer.
    public let body: HTTPBodyStream
}
