import Sprout

/// A small HTTP/1.1 server on ``StreamServer``: one greenlet per connection, keep-alive,
/// `Content-Length` and chunked bodies both ways, limits answered with 400/413/431 (the
/// connection is then closed), and a graceful stop.
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

    /// The limits every request is held to.
    public let limits: HTTPRequestParser.Limits
    private let handler: Handler
    private var server: StreamServer!
    /// Open connections; a stop closes those waiting for their next request at once.
    private var connections: [ObjectIdentifier: Connection] = [:]
    private var stopping = false

    /// A server for `host:port` (port 0: any free port) answering with `handler`; at most
    /// `maxConnections` clients are served at once. Nothing happens until ``start()``.
    public init(
        host: String = "127.0.0.1",
        port: Int = 0,
        maxConnections: Int? = nil,
        limits: HTTPRequestParser.Limits = HTTPRequestParser.Limits(),
        handler: @escaping Handler
    ) {
        self.limits = limits
        self.handler = handler
        server = StreamServer(host: host, port: port, maxConnections: maxConnections) { [unowned self] stream in
            await serve(stream)
        }
    }

    /// A server answering with `router`'s routes.
    public convenience init(
        host: String = "127.0.0.1",
        port: Int = 0,
        maxConnections: Int? = nil,
        limits: HTTPRequestParser.Limits = HTTPRequestParser.Limits(),
        router: HTTPRouter
    ) {
        self.init(host: host, port: port, maxConnections: maxConnections, limits: limits) { request in
            try await router.respond(to: request)
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
    /// - Throws: ``HubError`` if the address cannot be bound (`EADDRINUSE`).
    public func start() throws(HubError) {
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
    }

    // MARK: One connection

    private func serve(_ stream: TCPStream) async {
        var parser = HTTPRequestParser(limits: limits)
        var output: [UInt8] = []
        let connection = Connection(stream: stream)
        let key = ObjectIdentifier(connection)
        connections[key] = connection
        defer { connections[key] = nil }
        do {
            while true {
                let request: HTTPServerRequest
                do {
                    guard let next = try parser.next() else {
                        if stopping { return }
                        if parser.takeContinueRequest() { try await stream.write(Self.continueLine) }
                        connection.idle = !parser.hasPartialRequest
                        let bytes = try await stream.read()
                        connection.idle = false
                        if bytes.isEmpty { return }
                        parser.append(bytes)
                        continue
                    }
                    request = next
                } catch let error as HTTPParseError {
                    output.removeAll(keepingCapacity: true)
                    let response = HTTPServerResponse(status: error.status, text: "\(error.description)\n")
                    encode(response, body: Array("\(error.description)\n".utf8), headOnly: false, keepAlive: false, into: &output)
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
                    HubDiagnostics.report("SproutHTTP: handler for \(request.method) \(request.target) failed: \(error)")
                    output.removeAll(keepingCapacity: true)
                    encode(HTTPServerResponse(status: 500, text: "internal server error\n"),
                           body: Array("internal server error\n".utf8), headOnly: headOnly, keepAlive: false, into: &output)
                    try await stream.write(output)
                    return
                }
                // Checked after the handler: a stop while it ran ends the connection after this answer.
                let keepAlive = request.keepAlive && !stopping
                output.removeAll(keepingCapacity: true)
                switch response.body {
                case .bytes(let body):
                    encode(response, body: body, headOnly: headOnly, keepAlive: keepAlive, into: &output)
                    try await stream.write(output)
                case .stream(let produce):
                    HTTPResponseEncoder.encodeHead(response, contentLength: nil, keepAlive: keepAlive, into: &output)
                    try await stream.write(output)
                    do {
                        try await produce(HTTPChunkWriter(stream: stream, headOnly: headOnly))
                    } catch {
                        // Closing without the last chunk tells the client the body is incomplete.
                        if !(error is CancellationError) {
                            HubDiagnostics.report("SproutHTTP: streamed body for \(request.target) failed: \(error)")
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

    private static let continueLine = Array("HTTP/1.1 100 Continue\r\n\r\n".utf8)

    /// One connection's stream, and whether it waits between requests (safe to close on stop).
    private final class Connection {
        let stream: TCPStream
        var idle = false
        init(stream: TCPStream) { self.stream = stream }
    }

    private func encode(_ response: HTTPServerResponse, body: [UInt8], headOnly: Bool, keepAlive: Bool, into output: inout [UInt8]) {
        HTTPResponseEncoder.encodeHead(response, contentLength: body.count, keepAlive: keepAlive, into: &output)
        if !headOnly { output.append(contentsOf: body) }
    }
}
