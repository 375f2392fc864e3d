import CLibuv

import Glibc
import Logging

/// A TCP or Unix-domain socket server that runs each connection in a greenlet of its
/// own — gevent's `StreamServer`.
///
/// ```swift
/// let server = StreamServer(port: 0) { stream in
///     while case let bytes = try await stream.read(), !bytes.isEmpty {
///         try await stream.write(bytes)
///     }
/// }
/// try server.start()          // `server.port` is now the port the kernel chose
/// try await server.serveForever()
/// ```
///
/// The handler's stream is closed when the handler returns or throws; an error it throws
/// is reported through its logger (as gevent prints a handler's traceback) and ends only
/// that connection. ``stop(timeout:)-(Double)`` is graceful; the hub's shutdown (the end of
/// ``Hub/run(logger:_:)``, SIGINT, SIGTERM) stops every running server.
@Hub
public final class StreamServer {
    /// The address the server listens on; the socket's path for a Unix-socket server.
    public let host: String
    /// The port it listens on; after ``start()`` the real one, also when 0 was asked for.
    /// 0 for a Unix-socket server.
    public private(set) var port: Int
    /// The socket path of a Unix-socket server; `nil` for TCP.
    public let unixPath: String?
    /// At most this many connections are served at once; further clients wait in the
    /// kernel's backlog until one ends (`nil`: no limit).
    public let maxConnections: Int?
    /// Receives the reports of failed accepts and of handlers that threw.
    public let logger: Logger

    /// Accepts one connection from the listening socket as the stream type the server was
    /// made for, and binds it to the handler, which takes that type: no downcast.
    private let accept: @Hub (UnsafeMutablePointer<uv_stream_t>) throws(IOError) -> Connection
    private var listener: UnsafeMutablePointer<uv_stream_t>?
    private var connections: [UInt64: (greenlet: Greenlet<Void>, stream: ByteStream)] = [:]
    private var nextConnection: UInt64 = 0
    private var acceptDeferred = false
    private var stopped = false
    private var stopWaiters: [Waiter<Void>] = []
    private var shutdownHook: ShutdownHook?

    /// A server for `host:port` (port 0: any free port) that runs `handler` for each
    /// connection. Nothing happens until ``start()`` or ``serveForever()``. Reports go to
    /// `logger` (``Hub/logger`` when `nil`).
    public init(
        host: String = "127.0.0.1",
        port: Int = 0,
        maxConnections: Int? = nil,
        logger: Logger? = nil,
        handler: @escaping @Hub @Sendable (TCPStream) async throws -> Void
    ) {
        self.logger = logger ?? Hub.logger
        self.host = host
        self.port = port
        unixPath = nil
        self.maxConnections = maxConnections
        accept = { listener throws(IOError) in
            let stream = try TCPStream.accept(from: listener)
            return Connection(stream: stream, serve: { try await handler(stream) })
        }
    }

    /// A server for the Unix-domain socket at `unixPath` that runs `handler` for each
    /// connection. ``start()`` replaces a stale socket file at that path; ``stop(timeout:)-(Double)``
    /// removes it. Reports go to `logger` (``Hub/logger`` when `nil`).
    public init(
        unixPath: String,
        maxConnections: Int? = nil,
        logger: Logger? = nil,
        handler: @escaping @Hub @Sendable (UnixStream) async throws -> Void
    ) {
        self.logger = logger ?? Hub.logger
        host = unixPath
        port = 0
        self.unixPath = unixPath
        self.maxConnections = maxConnections
        accept = { listener throws(IOError) in
            let stream = try UnixStream.accept(from: listener, path: unixPath)
            return Connection(stream: stream, serve: { try await handler(stream) })
        }
    }

    private var endpoint: String { unixPath ?? "\(host):\(port)" }

    /// The number of connections being served now.
    public var connectionCount: Int { connections.count }

    /// True between ``start()`` and ``stop(timeout:)-(Double)``.
    public var isServing: Bool { listener != nil }

    /// Binds and listens; connections are accepted from now on, while the hub runs.
    /// Starting a started server does nothing.
    ///
    /// - Throws: ``IOError`` (`listen 127.0.0.1:8080: EADDRINUSE`), `EINVAL` for a host
    ///   that is not a numeric address or `localhost`; `ECANCELED` after ``stop(timeout:)-(Double)``.
    public func start() throws(IOError) {
        guard listener == nil else { return }
        if stopped { throw IOError(code: Int32(UV_ECANCELED.rawValue), operation: "listen after stop", peer: "\(endpoint)") }
        let handle: UnsafeMutablePointer<uv_stream_t>
        if let unixPath {
            handle = try Self.bindUnix(unixPath)
        } else {
            handle = try bindTCP()
        }
        handle.pointee.data = Unmanaged.passUnretained(self).toOpaque()
        let rc = Self.listen(handle)
        if rc != 0 {
            closeHandle(handle)
            throw IOError(code: rc, operation: "listen", peer: "\(endpoint)")
        }
        listener = handle
        if unixPath == nil,
           let bound = SocketAddress.read({ uv_tcp_getsockname(UnsafeMutableRawPointer(handle).assumingMemoryBound(to: uv_tcp_t.self), $0, $1) }) {
            port = bound.port
        }
        shutdownHook = Hub.onShutdown { [self] in await stop(timeout: 0) }
    }

    /// Nonisolated on purpose: a callback written inside a `@Hub` method is checked for
    /// isolation on every call.
    private nonisolated static func listen(_ handle: UnsafeMutablePointer<uv_stream_t>) -> Int32 {
        uv_listen(handle, 1024) { server, status in
            let owner = Unmanaged<StreamServer>.fromOpaque(server!.pointee.data).takeUnretainedValue()
            Hub.onHubThread(StreamServer.incomingOnHub)((owner, status))
        }
    }

    private func bindTCP() throws(IOError) -> UnsafeMutablePointer<uv_stream_t> {
        let peer = "\(endpoint)"
        guard let address = SocketAddress(host: host == "localhost" ? "127.0.0.1" : host, port: port) else {
            throw IOError(code: Int32(UV_EINVAL.rawValue), operation: "listen (not a numeric address)", peer: peer)
        }
        let handle = UnsafeMutablePointer<uv_tcp_t>.allocate(capacity: 1)
        var rc = uv_tcp_init(Hub.loop, handle)
        if rc != 0 {
            handle.deallocate()
            throw IOError(code: rc, operation: "listen", peer: peer)
        }
        rc = address.withSockaddr { uv_tcp_bind(handle, $0, 0) }
        if rc != 0 {
            closeHandle(handle)
            throw IOError(code: rc, operation: "listen", peer: peer)
        }
        return UnsafeMutableRawPointer(handle).assumingMemoryBound(to: uv_stream_t.self)
    }

    private static func bindUnix(_ path: String) throws(IOError) -> UnsafeMutablePointer<uv_stream_t> {
        let peer = path
        removeStaleSocket(path)
        let handle = UnsafeMutablePointer<uv_pipe_t>.allocate(capacity: 1)
        var rc = uv_pipe_init(Hub.loop, handle, 0)
        if rc != 0 {
            handle.deallocate()
            throw IOError(code: rc, operation: "listen", peer: peer)
        }
        rc = uv_pipe_bind(handle, path)
        if rc != 0 {
            closeHandle(handle)
            throw IOError(code: rc, operation: "listen", peer: peer)
        }
        return UnsafeMutableRawPointer(handle).assumingMemoryBound(to: uv_stream_t.self)
    }

    /// Removes a socket file left by an earlier server (never a regular file).
    private static func removeStaleSocket(_ path: String) {
        var info = stat()
        if lstat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFSOCK {
            unlink(path)
        }
    }

    /// Starts the server if needed and waits until it is stopped — gevent's
    /// `serve_forever`. Killing the waiting greenlet stops the server at once.
    ///
    /// - Throws: what ``start()`` throws; `CancellationError` if the greenlet is killed.
    public func serveForever() async throws {
        try start()
        while listener != nil {
            let waiter = Waiter<Void>()
            let wake = await park(waiter) { waiter in
                if listener == nil {
                    waiter.wake()
                    return
                }
                stopWaiters.append(waiter)
                waiter.onAbandon = { [self] in stopWaiters.removeAll { $0 === waiter } }
            }
            if case .cancelled = wake {
                await stop(timeout: 0)
                throw CancellationError()
            }
        }
    }

    /// Stops gracefully: stops accepting at once, lets running handlers finish for up to
    /// `timeout` seconds, then kills those still running and closes their connections.
    /// Stopping a stopped server does nothing.
    public func stop(timeout: Double = 5) async {
        guard !stopped else { return }
        stopped = true
        if let listener {
            closeHandle(listener)
            self.listener = nil
            if let unixPath { unlink(unixPath) }
        }
        if let shutdownHook {
            Hub.removeShutdownHook(shutdownHook)
            self.shutdownHook = nil
        }
        let waiters = stopWaiters
        stopWaiters = []
        for waiter in waiters { waiter.wake() }

        let running = connections.values.map(\.greenlet)
        if timeout > 0 { _ = try? await joinAll(running, timeout: timeout) }
        let stuck = connections.values.filter { !$0.greenlet.isReady }
        for connection in stuck { connection.greenlet.cancel() }
        if !stuck.isEmpty { _ = try? await joinAll(stuck.map(\.greenlet), timeout: 1) }
        for connection in connections.values { connection.stream.abort() }
    }

    /// The listen callback's way in, a constant: `Hub.assumeIsolated` with a capturing
    /// closure boxes it on every connection.
    private nonisolated static let incomingOnHub: @Sendable @Hub ((StreamServer, Int32)) -> Void = { $0.0.incoming($0.1) }

    private func incoming(_ status: Int32) {
        guard status == 0 else {
            logger.error("StreamServer on \(endpoint) could not accept: \(IOError(code: status, operation: "accept on", peer: "\(endpoint)"))")
            return
        }
        if let maxConnections, connections.count >= maxConnections {
            // libuv stops watching the listening socket until uv_accept is called, so the
            // client waits in the backlog until a connection ends.
            acceptDeferred = true
            return
        }
        acceptOne()
    }

    private func acceptOne() {
        guard let listener else { return }
        let connection: Connection
        do {
            connection = try accept(listener)
        } catch {
            logger.error("StreamServer on \(endpoint) could not accept: \(error)")
            return
        }
        let id = nextConnection
        nextConnection += 1
        let stream = connection.stream
        let greenlet = spawn(name: "StreamServer \(endpoint) connection \(id)") {
            defer { stream.close() }
            try await connection.serve()
        }
        connections[id] = (greenlet, stream)
        greenlet.onDone { [self] in connectionEnded(id) }
    }

    private func connectionEnded(_ id: UInt64) {
        guard let (greenlet, stream) = connections.removeValue(forKey: id) else { return }
        if let error = greenlet.error, !(error is GreenletExit), !(error is CancellationError) {
            logger.error("StreamServer \(endpoint) handler for \(stream.peerDescription()) failed: \(error)")
        }
        if acceptDeferred {
            acceptDeferred = false
            acceptOne()
        }
    }
}

/// An accepted connection: its stream, and the server's handler bound to it.
private struct Connection: Sendable {
    let stream: ByteStream
    let serve: @Hub @Sendable () async throws -> Void
}
