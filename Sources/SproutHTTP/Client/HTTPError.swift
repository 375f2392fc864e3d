/// Why an HTTP request failed; every case carries the URL that was requested.
///
/// An HTTP error status (404, 500) is not an `HTTPError`: it is a response.
public enum HTTPError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The URL is malformed or its scheme is not `http`/`https`.
    case invalidURL(url: String)
    /// The host name could not be resolved.
    case couldNotResolve(url: String)
    /// Nothing listens at the address, or the connection could not be made.
    case connectionRefused(url: String)
    /// The connect or total timeout passed.
    case timedOut(url: String)
    /// The TLS handshake or certificate verification failed; `reason` says how.
    case tls(url: String, reason: String)
    /// More redirects than the request allows.
    case tooManyRedirects(url: String)
    /// The server's answer is not valid HTTP (bad status line, bad chunking, …).
    case protocolError(url: String, reason: String)
    /// The connection closed or failed before the response was complete.
    case connectionLost(url: String, reason: String)
    /// The peer reset the connection (TCP RST) before the response was complete.
    case connectionReset(url: String)
    /// The response body is longer than `limit` bytes (``HTTPRequest/maxBodyBytes``, or
    /// the client's ``HTTPClient/Configuration/maxResponseBodyBytes``); the rest was not read.
    case responseTooLarge(url: String, limit: Int)
    /// Any other transfer failure, with libcurl's explanation.
    case failed(url: String, reason: String)

    /// The URL the failing request asked for.
    public var url: String {
        switch self {
        case .invalidURL(let url), .couldNotResolve(let url), .connectionRefused(let url),
             .timedOut(let url), .tooManyRedirects(let url), .connectionReset(let url),
             .responseTooLarge(let url, _):
            url
        case .tls(let url, _), .protocolError(let url, _), .connectionLost(let url, _), .failed(let url, _):
            url
        }
    }

    public var description: String {
        switch self {
        case .invalidURL(let url): "invalid URL: \(url)"
        case .couldNotResolve(let url): "could not resolve the host of \(url)"
        case .connectionRefused(let url): "connection refused: \(url)"
        case .timedOut(let url): "timed out: \(url)"
        case .tls(let url, let reason): "TLS failure for \(url): \(reason)"
        case .tooManyRedirects(let url): "too many redirects: \(url)"
        case .protocolError(let url, let reason): "bad HTTP answer from \(url): \(reason)"
        case .connectionLost(let url, let reason): "connection lost: \(url): \(reason)"
        case .connectionReset(let url): "connection reset by the peer: \(url)"
        case .responseTooLarge(let url, let limit): "response body of \(url) exceeds \(limit) bytes"
        case .failed(let url, let reason): "request to \(url) failed: \(reason)"
        }
    }
}
