import Glibc

/// How an object served by the process that made it (``SharedDictionary``, ``SharedList``
/// — multiprocessing's `Manager` objects) reaches that process: the owner serves requests
/// on the hub over a Unix socket of the abstract namespace; a copy decoded in another
/// process connects there and sends one request at a time.
///
/// Requests from different processes are answered one at a time, in the order the owner
/// receives them, by `answer` — synchronous, so each request is applied whole.
final class ManagerChannel<Request: Codable & Sendable, Reply: Codable & Sendable>: Sendable {
    private enum Role {
        /// The serving process: the server greenlet.
        case owner(Greenlet<Void>)
        /// A process that reaches the owner through this socket.
        case client(MessageSocket)
    }

    let address: String
    private let role: Role

    /// Starts serving `answer` in this process.
    ///
    /// - Throws: ``ProcessChannelError/system(operation:code:)`` if the socket cannot be made.
    @Hub
    init(kind: String, answer: @escaping @Sendable (Request) -> Reply) throws {
        address = "sprout-\(kind)-\(getpid())-\(UInt64.random(in: 0...UInt64.max))"
        let listener = socket(AF_UNIX, SocketPairKind.seqpacketNonBlocking, 0)
        guard listener >= 0 else { throw ProcessChannelError.system(operation: "socket", code: errno) }
        let bound = Self.withAddress(address) { bind(listener, $0, $1) }
        guard bound == 0, listen(listener, 64) == 0 else {
            let code = errno
            close(listener)
            throw ProcessChannelError.system(operation: "listen on @\(address)", code: code)
        }
        role = .owner(spawn(name: "\(kind) server") { try await Self.serve(listener: listener, answer: answer) })
    }

    /// Connects to the owner serving at `address`.
    ///
    /// - Throws: ``ProcessChannelError/system(operation:code:)`` if it cannot be reached.
    init(connectingTo address: String) throws {
        self.address = address
        let connection = socket(AF_UNIX, SocketPairKind.seqpacket, 0)
        guard connection >= 0 else { throw ProcessChannelError.system(operation: "socket", code: errno) }
        guard Self.withAddress(address, { connect(connection, $0, $1) }) == 0 else {
            let code = errno
            close(connection)
            throw ProcessChannelError.system(operation: "connect to @\(address)", code: code)
        }
        role = .client(MessageSocket(owning: connection))
    }

    deinit {
        if case .owner(let server) = role { server.cancel() }
    }

    /// True in the process that serves the object.
    var isOwner: Bool {
        if case .owner = role { true } else { false }
    }

    /// Sends `request` to the owner and waits for its reply.
    ///
    /// - Throws: ``ProcessChannelError`` if the owner cannot be reached.
    func ask(_ request: Request) async throws -> Reply {
        guard case .client(let connection) = role else { preconditionFailure("the owner answers itself") }
        try await connection.send(request)
        guard let reply = try await connection.receive(Reply.self, timeout: nil) else { throw ProcessChannelError.closed }
        return reply
    }

    @Hub
    private static func serve(listener: Int32, answer: @escaping @Sendable (Request) -> Reply) async throws {
        let watcher = try FDWatcher(fd: listener)
        var connections: [Greenlet<Void>] = []
        defer {
            watcher.close()
            close(listener)
            for connection in connections { connection.cancel() }
        }
        while try await watcher.waitReadable() {
            while true {
                let fd = accept(listener, nil, nil)
                if fd < 0 { break }
                _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
                let connection = MessageSocket(owning: fd)
                connections.removeAll { $0.isReady }
                connections.append(spawn(name: "manager connection") {
                    do {
                        while let request = try await connection.receive(Request.self, timeout: nil) {
                            try await connection.send(answer(request))
                        }
                    } catch ProcessChannelError.closed {
                        // The client's copy went away: its job ended.
                    }
                })
            }
        }
    }

    /// Calls `body` with the abstract-namespace address `name`.
    private static func withAddress(_ name: String, _ body: (UnsafePointer<sockaddr>, socklen_t) -> Int32) -> Int32 {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(name.utf8.prefix(100))
        withUnsafeMutableBytes(of: &address.sun_path) { path in
            path[0] = 0
            for (index, byte) in bytes.enumerated() { path[index + 1] = byte }
        }
        let length = socklen_t(MemoryLayout<sa_family_t>.size + 1 + bytes.count)
        return withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, length) }
        }
    }
}
