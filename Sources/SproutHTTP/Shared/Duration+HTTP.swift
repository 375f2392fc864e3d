import Sprout

// The HTTP calls that take a time, with a `Duration` beside `Double` seconds, as Swift's own
// `Task.sleep(for:)` does: `HTTPClient.shared.get(url, timeout: .seconds(10))`.

extension HTTPClient {
    /// `GET url`, giving up after `timeout`; `get(_:headers:timeout:)` with a `Duration`.
    ///
    /// - Returns: the response (an error status is a response).
    /// - Throws: what `get(_:headers:timeout:)` throws (``HTTPError`` when no response
    ///   arrives in time; `CancellationError`).
    public func get(_ url: String, headers: HTTPHeaders = [:], timeout: Duration) async throws -> HTTPResponse {
        try await get(url, headers: headers, timeout: timeout.inSeconds)
    }
}

extension HTTPServer {
    /// Stops accepting, lets requests in progress finish for up to `timeout`, then closes the
    /// rest; `stop(timeout:)` with a `Duration`.
    public func stop(timeout: Duration) async {
        await stop(timeout: timeout.inSeconds)
    }
}
