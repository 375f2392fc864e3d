import Sprout

/// An HTTP(S) client on libcurl's multi interface, driven by the hub: each request
/// suspends only its own greenlet while curl waits on the network, so a thousand
/// requests in a thousand greenlets share one thread and one event loop.
///
/// ```swift
/// let pages = urls.map { url in spawn { try await HTTPClient.shared.get(url) } }
/// try await joinAll(pages)
/// ```
///
/// Connections are kept and reused per host (at most
/// ``Configuration/maxConnectionsPerHost`` at once; further requests queue), redirects are
/// followed up to a bound, and TLS certificates are verified unless configured otherwise.
@Hub
public final class HTTPClient {
    /// Client-wide settings.
    public struct Configuration: Sendable {
        /// The most connections open to one host at a time; 0 for no limit.
        public var maxConnectionsPerHost: Int
        /// How many idle connections are kept for reuse.
        public var maxCachedConnections: Int
        /// Seconds allowed to connect when a request does not say.
        public var connectTimeout: Double
        /// Whether TLS certificates and host names are verified (keep this on).
        public var verifyTLS: Bool
        /// The `User-Agent` sent with every request.
        public var userAgent: String
        /// Whether `http_proxy`, `https_proxy` and `no_proxy` from the environment apply
        /// (off by default, as in aiohttp: a stray variable does not reroute requests).
        public var useEnvironmentProxy: Bool
        /// The longest response body a request accepts when it does not set
        /// ``HTTPRequest/maxBodyBytes``: a longer one fails with
        /// ``HTTPError/responseTooLarge(url:limit:)`` as soon as its `Content-Length` or
        /// its bytes say so, so a hostile server cannot fill memory with a buffered body.
        /// 64 MiB by default; `Int.max` for no limit (streamed bodies are buffered a
        /// megabyte at a time whatever their length).
        public var maxResponseBodyBytes: Int

        /// Settings; the defaults suit most programs.
        public init(
            maxConnectionsPerHost: Int = 128,
            maxCachedConnections: Int = 256,
            connectTimeout: Double = 10,
            verifyTLS: Bool = true,
            userAgent: String = "Sprout",
            useEnvironmentProxy: Bool = false,
            maxResponseBodyBytes: Int = 64 << 20
        ) {
            self.maxConnectionsPerHost = maxConnectionsPerHost
            self.maxCachedConnections = maxCachedConnections
            self.connectTimeout = connectTimeout
            self.verifyTLS = verifyTLS
            self.userAgent = userAgent
            self.useEnvironmentProxy = useEnvironmentProxy
            self.maxResponseBodyBytes = maxResponseBodyBytes
        }
    }

    /// The process-wide client, created on first use with the default configuration.
    public static let shared = HTTPClient()

    /// This client's settings.
    public let configuration: Configuration
    let multi: CurlMulti
    private var shutdownHook: ShutdownHook?

    /// A client of its own (its own connections); ``close()`` it when done.
    public init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
        multi = CurlMulti(
            maxConnectionsPerHost: configuration.maxConnectionsPerHost,
            maxCachedConnections: configuration.maxCachedConnections
        )
        // The hub's teardown (end of Hub.run, SIGINT, SIGTERM) closes curl's sockets before
        // it closes every libuv handle.
        shutdownHook = Hub.onShutdown { [multi] in multi.close() }
    }

    deinit {
        let multi = multi, hook = shutdownHook
        Hub.later {
            multi.close()
            if let hook { Hub.removeShutdownHook(hook) }
        }
    }

    /// Requests in flight.
    public var activeRequests: Int { multi.activeCount }

    /// Sockets this client holds open (in use or kept for reuse).
    public var openConnections: Int { multi.openSockets.count }

    /// Aborts requests in flight (they fail) and closes every connection. The client
    /// cannot be used afterwards.
    public func close() {
        multi.close()
        if let shutdownHook { Hub.removeShutdownHook(shutdownHook) }
        shutdownHook = nil
    }

    /// `GET url`.
    ///
    /// - Throws: ``HTTPError`` when no response arrives (an error status is a response);
    ///   `CancellationError` if the greenlet is killed.
    public func get(_ url: String, headers: HTTPHeaders = [:], timeout: Double? = nil) async throws -> HTTPResponse {
        try await send(HTTPRequest(url: url, headers: headers, timeout: timeout))
    }

    /// `POST body to url`.
    ///
    /// - Throws: ``HTTPError`` when no response arrives; `CancellationError` if the greenlet is killed.
    public func post(
        _ url: String,
        body: [UInt8],
        headers: HTTPHeaders = [:],
        timeout: Double? = nil
    ) async throws -> HTTPResponse {
        try await send(HTTPRequest(url: url, method: .post, headers: headers, body: body, timeout: timeout))
    }

    /// Sends `request` and returns the whole response once its body has arrived.
    ///
    /// - Throws: ``HTTPError`` when no complete response arrives; `CancellationError` if
    ///   the greenlet is killed (the request is taken out of the client cleanly).
    public func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        let transfer = try start(request, streaming: false)
        defer { transfer.release(to: multi) }
        while transfer.result == nil {
            do {
                try await transfer.waitForProgress()
            } catch {
                multi.abort(transfer)
                throw error
            }
        }
        if let error = transfer.error { throw error }
        return HTTPResponse(status: transfer.status, headers: transfer.headers, body: transfer.body, url: transfer.effectiveURL)
    }

    /// Sends `request` and returns as soon as the response's head has arrived; its body
    /// is read from ``HTTPStreamingResponse/body`` chunk by chunk (curl is paused while
    /// a megabyte is waiting unread).
    ///
    /// - Throws: ``HTTPError`` when no response head arrives; `CancellationError` if the
    ///   greenlet is killed.
    public func stream(_ request: HTTPRequest) async throws -> HTTPStreamingResponse {
        let transfer = try start(request, streaming: true)
        while !transfer.headersReady {
            do {
                try await transfer.waitForProgress()
            } catch {
                multi.abort(transfer)
                transfer.release(to: multi)
                throw error
            }
        }
        // A failure after the head (a body cut short) is thrown by the body's iteration.
        if let error = transfer.error, !transfer.responded || transfer.status == 0 {
            transfer.release(to: multi)
            throw error
        }
        return HTTPStreamingResponse(
            status: transfer.status,
            headers: transfer.headers,
            url: transfer.effectiveURL,
            body: HTTPBodyStream(source: HTTPBodySource(transfer: transfer, multi: multi))
        )
    }

    private func start(_ request: HTTPRequest, streaming: Bool) throws(HTTPError) -> CurlTransfer {
        let defaults = configuration
        guard let easy = multi.makeEasyHandle(prepare: { CurlTransfer.prepare($0, defaults: defaults) }) else {
            throw .failed(url: request.url, reason: "libcurl could not create a transfer")
        }
        let transfer = CurlTransfer(easy: easy, request: request, streaming: streaming, defaults: configuration)
        do {
            try multi.add(transfer)
        } catch {
            transfer.release(to: multi)
            throw error
        }
        return transfer
    }
}
