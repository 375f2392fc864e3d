import Sprout
import Logging

/// A small HTTP/1.1 server on Sprout's `StreamServer`: one greenlet per connection, keep-alive,
/// `Content-Length` and chunked bodies both ways, and a graceful stop. Requests are read
/// by the strict rules of RFC 9112; a request that breaks them or the limits of its
/// ``Configuration`` is answered with 400, 413, 431, 501 or 505 and the connection closed.
/// A client slower than the configuration's timeouts is disconnected.
///
/// ```swift
/// let server = HTTPServer(port: 8080) { request in
///     HTTPServerResponse(text: "hello from \(request.path)\n")
/// }
/// try await server.serveForever()
/// ```
///
/// A handler that throws is answered with 500 and reported on standard error; it never
/// stops the server.
@Hub
public final class HTTPServer {
    /// Produces the response to one request.
    public typealias Handler = @Hub @Sendable (HTTPServerRequest) async throws -> HTTPServerResponse

    /// The timeouts and limits every connection is held to.
    public let configuration: Configuration
    private let limits: HTTPRequestParser.Limits
    private let handler: Handler
    private var server: StreamServer!
    /// Open connections; a stop closes those waiting for their next request at once, and
    /// the sweep those past their deadline.
    private var connections: [ObjectIdentifier: HTTPServerConnection] = [:]
    private var stopping = false
    private let headMilliseconds: UInt64
    private let bodyMilliseconds: UInt64
    private let keepAliveMilliseconds: UInt64
    private let writeMilliseconds: UInt64
    private let sweepInterval: Double
    private var sweep: HubTimer?
    private var date = HTTPDateLine()
    /// Receives the server's reports: handlers that threw, responses that cannot be sent.
    public let logger: Logger

    /// A server for `host:port` (port 0: any free port) answering with `handler`, with the
    /// default ``Configuration`` (safe timeouts and limits). Nothing happens until ``start()``.
    /// Reports (a handler that threw, a response that cannot be sent) go to `logger`,
    /// `Logger(label: "sprout.http")` when `nil`.
    public convenience init(host: String = "127.0.0.1", port: Int = 0, logger: Logger? = nil, handler: @escaping Handler) {
        self.init(host: host, port: port, validated: Configuration(), logger: logger, handler: handler)
    }

    /// A server for `host:port` (port 0: any free port) answering with `handler`, held to
    /// `configuration`. Nothing happens until ``start()``. Reports go to `logger`,
    /// `Logger(label: "sprout.http")` when `nil`.
    ///
    /// - Throws: ``HTTPServerConfigurationError`` for a setting out of range.
    public convenience init(
        host: String = "127.0.0.1",
        port: Int = 0,
        configuration: Configuration,
        logger: Logger? = nil,
        handler: @escaping Handler
    ) throws(HTTPServerConfigurationError) {
        try configuration.validate()
        self.init(host: host, port: port, validated: configuration, logger: logger, handler: handler)
    }

    /// A server answering with `router`'s routes, with the default ``Configuration``.
    /// Reports go to `logger`, `Logger(label: "sprout.http")` when `nil`.
    public convenience init(host: String = "127.0.0.1", port: Int = 0, logger: Logger? = nil, router: HTTPRouter) {
        self.init(host: host, port: port, validated: Configuration(), logger: logger) { request in
            try await router.respond(to: request)
        }
    }

    /// A server answering with `router`'s routes, held to `configuration`. Reports go to
    /// `logger`, `Logger(label: "sprout.http")` when `nil`.
    ///
    /// - Throws: ``HTTPServerConfigurationError`` for a setting out of range.
    public convenience init(
        host: String = "127.0.0.1",
        port: Int = 0,
        configuration: Configuration,
        logger: Logger? = nil,
        router: HTTPRouter
    ) throws(HTTPServerConfigurationError) {
        try self.init(host: host, port: port, configuration: configuration, logger: logger) { request in
            try await router.respond(to: request)
        }
    }

    private init(host: String, port: Int, validated configuration: Configuration, logger: Logger?, handler: @escaping Handler) {
        let logger = logger ?? Logger(label: "sprout.http")
        self.logger = logger
        self.configuration = configuration
        limits = configuration.limits
        self.handler = handler
        headMilliseconds = milliseconds(configuration.headTimeout)
        bodyMilliseconds = milliseconds(configuration.bodyTimeout)
        keepAliveMilliseconds = milliseconds(configuration.keepAliveTimeout)
        writeMilliseconds = milliseconds(configuration.writeTimeout)
        let shortest = min(configuration.headTimeout, configuration.bodyTimeout, configuration.keepAliveTimeout,
                           configuration.writeTimeout)
        sweepInterval = min(max(shortest / 4, 0.005), 1)
        server = StreamServer(host: host, port: port, maxConnections: configuration.maxConnections, logger: logger) { [unowned self] stream in
            await serve(stream)
        }
    }

    /// The port the server listens on (the real one after ``start()``, also for port 0).
    public var port: Int { server.port }

    /// The address it listens on.
    public var host: String { server.host }

    /// Connections open now.
    public var connectionCount: Int { server.connectionCount }

    /// Binds and listens.
    ///
    /// - Throws: `IOError` (Sprout) if the address cannot be bound (`EADDRINUSE`).
    public func start() throws(IOError) {
        try server.start()
    }

    /// Starts if needed and waits until stopped.
    ///
    /// - Throws: what ``start()`` throws; `CancellationError` if the greenlet is killed.
    public func serveForever() async throws {
        try await server.serveForever()
    }

    /// Stops accepting, closes idle keep-alive connections, lets requests in progress
    /// finish for up to `timeout` seconds, then closes the rest.
    public func stop(timeout: Double = 5) async {
        stopping = true
        for connection in connections.values where connection.idle { connection.stream.close() }
        await server.stop(timeout: timeout)
        if let sweep {
            Hub.cancelTimer(sweep)
            self.sweep = nil
        }
    }

    // MARK: Deadlines

    /// Runs the sweep while connections are open: one timer per server, not one per request.
    private func sweepSoon() {
        guard sweep == nil, !stopping else { return }
        sweep = Hub.schedule(after: sweepInterval) { [weak self] in
            self?.sweepNow()
        }
    }

    /// Closes every connection past its deadline, and every one whose client took none of
    /// its queued response bytes for the write timeout: its pending read or write fails
    /// and its greenlet ends. Watching the write queue here, not around each write, keeps
    /// the write timeout off the request path; and a client still taking a response is
    /// not idle, so its read deadline waits until the response is delivered.
    private func sweepNow() {
        sweep = nil
        let now = Hub.loopMilliseconds
        for connection in connections.values {
            let queued = connection.stream.queuedWriteBytes
            if queued > 0 {
                if queued != connection.queuedBytes {
                    connection.queuedBytes = queued
                    connection.queuedSince = now
                } else if now &- connection.queuedSince >= writeMilliseconds {
                    connection.stream.abort()
                    continue
                }
                if connection.deadline != .max { connection.deadline = max(connection.deadline, now &+ keepAliveMilliseconds) }
            } else {
                connection.queuedBytes = 0
                if connection.deadline <= now { connection.stream.abort() }
            }
        }
        if !connections.isEmpty { sweepSoon() }
    }

    // MARK: One connection

    private func serve(_ stream: TCPStream) async {
        var parser = HTTPRequestParser(limits: limits)
        var output: [UInt8] = []
        let connection = HTTPServerConnection(stream: stream)
        let key = ObjectIdentifier(connection)
        connections[key] = connection
        defer { connections[key] = nil }
        sweepSoon()
        // The first request's head counts from the connection's start; a later one's from
        // its first byte, while the wait before that byte is keep-alive idleness.
        connection.expire(after: headMilliseconds)
        var headStarted = true
        do {
            while true {
                let request: HTTPServerRequest
                do {
                    guard let next = try parser.next() else {
                        if stopping { return }
                        if parser.takeContinueRequest() { try await stream.write(Self.continueLine) }
                        if !parser.isReadingHead {
                            connection.expire(after: bodyMilliseconds)
                        } else if !headStarted {
                            headStarted = parser.hasPartialRequest
                            connection.expire(after: headStarted ? headMilliseconds : keepAliveMilliseconds)
                        }
                        connection.idle = !parser.hasPartialRequest
                        let bytes = try await stream.read()
                        connection.idle = false
                        if bytes.isEmpty { return }
                        parser.append(bytes)
                        continue
                    }
                    request = next
                    headStarted = false
                    connection.deadline = .max
                } catch let error as HTTPParseError {
                    output.removeAll(keepingCapacity: true)
                    HTTPResponseEncoder.encodeError(status: error.status, message: "\(error.description)\n", headOnly: false,
                                                    date: &date, into: &output)
                    try await stream.write(output)
                    return
                }
                let headOnly = request.method == .head
                let response: HTTPServerResponse
                do {
                    response = try await handler(request)
                } catch is CancellationError {
                    return
                } catch {
                    logger.error("handler for \(request.method) \(request.target) failed: \(error)")
                    try await answerInternalError(stream, headOnly: headOnly, into: &output)
                    return
                }
                // Checked after the handler: a stop while it ran ends the connection after this answer.
                let keepAlive = request.keepAlive && !stopping
                output.removeAll(keepingCapacity: true)
                do {
                    switch response.body {
                    case .bytes(let body):
                        try HTTPResponseEncoder.encodeHead(response, contentLength: body.count, keepAlive: keepAlive, date: &date, into: &output)
                        if !headOnly { output.append(contentsOf: body) }
                    case .stream:
                        try HTTPResponseEncoder.encodeHead(response, contentLength: nil, keepAlive: keepAlive, date: &date, into: &output)
                    }
                } catch {
                    // Nothing of it is written: a CR LF from the handler's input cannot split it.
                    logger.error(
                        "handler for \(request.method) \(request.target) returned a response that cannot be sent: \(error)")
                    try await answerInternalError(stream, headOnly: headOnly, into: &output)
                    return
                }
                try await stream.write(output)
                if case .stream(let produce) = response.body {
                    do {
                        try await produce(HTTPChunkWriter(stream: stream, headOnly: headOnly))
                    } catch {
                        // Closing without the last chunk tells the client the body is incomplete.
                        if !(error is CancellationError) {
                            logger.error("streamed body for \(request.target) failed: \(error)")
                        }
                        return
                    }
                    if !headOnly { try await stream.write(HTTPResponseEncoder.lastChunk) }
                }
                if !keepAlive { return }
            }
        } catch {
            // The client went away (reset, closed mid-request) or the server is stopping:
            // nothing to answer, and nothing the server's operator needs to hear about.
        }
    }

    /// Answers 500 and lets the caller close the connection.
    private func answerInternalError(_ stream: TCPStream, headOnly: Bool, into output: inout [UInt8]) async throws {
        output.removeAll(keepingCapacity: true)
        HTTPResponseEncoder.encodeError(status: 500, message: "internal server error\n", headOnly: headOnly, date: &date, into: &output)
        try await stream.write(output)
    }

    private static let continueLine = Array("HTTP/1.1 100 Continue\r\n\r\n".utf8)
}
