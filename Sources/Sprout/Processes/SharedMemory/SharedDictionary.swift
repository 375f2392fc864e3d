import Glibc
import Synchronization

/// A dictionary of Codable values served by the process that made it and usable from its
/// workers — multiprocessing's `Manager().dict()`.
///
/// The dictionary lives in the parent, which serves it on the hub over a Unix socket of the
/// abstract namespace. Send it to workers inside jobs (it is `Codable`: what travels is the
/// socket's name); in a worker, each call is a request to the parent. Calls from different
/// processes are applied one at a time, in the order the parent receives them.
///
/// On the hub, calls switch greenlets while they wait; in a worker's job they block its
/// thread. A decoded copy sends one request at a time: do not call it from two tasks at once.
public final class SharedDictionary<Key: Codable & Hashable & Sendable, Value: Codable & Sendable>: Codable, Sendable {
    private enum Request: Codable {
        case get(Key)
        case set(Key, Value)
        case remove(Key)
        case snapshot
    }

    private struct Reply: Codable {
        var value: Value?
        var all: [Key: Value]?
    }

    /// The entries, in the serving process.
    private final class Store: Sendable {
        let entries = Mutex<[Key: Value]>([:])
    }

    private enum Role {
        /// The serving process: the entries and the server greenlet.
        case owner(Store, Greenlet<Void>)
        /// A process that reaches the owner through this socket.
        case client(MessageSocket)
    }

    private let address: String
    private let role: Role

    /// An empty dictionary, served by this process from now on.
    ///
    /// - Throws: ``ProcessChannelError/system(operation:code:)`` if the socket cannot be made.
    @Hub
    public init() throws {
        address = "sprout-dict-\(getpid())-\(UInt64.random(in: 0...UInt64.max))"
        let listener = socket(AF_UNIX, SocketPairKind.seqpacketNonBlocking, 0)
        guard listener >= 0 else { throw ProcessChannelError.system(operation: "socket", code: errno) }
        let bound = Self.withAddress(address) { bind(listener, $0, $1) }
        guard bound == 0, listen(listener, 64) == 0 else {
            let code = errno
            close(listener)
            throw ProcessChannelError.system(operation: "listen on @\(address)", code: code)
        }
        let storage = Store()
        let server = spawn(name: "SharedDictionary server") {
            try await Self.serve(listener: listener, storage: storage)
        }
        role = .owner(storage, server)
    }

    deinit {
        if case .owner(_, let server) = role { server.cancel() }
    }

    /// The value for `key`, or `nil`.
    ///
    /// - Throws: ``ProcessChannelError`` if the owner cannot be reached.
    public func get(_ key: Key) async throws -> Value? {
        switch role {
        case .owner(let storage, _): storage.entries.withLock { $0[key] }
        case .client: try await ask(.get(key)).value
        }
    }

    /// Sets the value for `key`.
    ///
    /// - Throws: ``ProcessChannelError`` if the owner cannot be reached.
    public func set(_ key: Key, _ value: Value) async throws {
        switch role {
        case .owner(let storage, _): storage.entries.withLock { $0[key] = value }
        case .client: _ = try await ask(.set(key, value))
        }
    }

    /// Removes `key`; returns the value it had.
    ///
    /// - Throws: ``ProcessChannelError`` if the owner cannot be reached.
    @discardableResult
    public func remove(_ key: Key) async throws -> Value? {
        switch role {
        case .owner(let storage, _): storage.entries.withLock { $0.removeValue(forKey: key) }
        case .client: try await ask(.remove(key)).value
        }
    }

    /// A copy of the whole dictionary.
    ///
    /// - Throws: ``ProcessChannelError`` if the owner cannot be reached.
    public func snapshot() async throws -> [Key: Value] {
        switch role {
        case .owner(let storage, _): storage.entries.withLock { $0 }
        case .client: try await ask(.snapshot).all ?? [:]
        }
    }

    private func ask(_ request: Request) async throws -> Reply {
        guard case .client(let connection) = role else { fatalError("only a client asks its owner") }
        try await connection.send(request)
        guard let reply = try await connection.receive(Reply.self, timeout: nil) else { throw ProcessChannelError.closed }
        return reply
    }

    /// Encodes the name of the socket the owner serves on.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(address)
    }

    /// Connects to the dictionary's owner.
    ///
    /// - Throws: ``ProcessChannelError`` if the owner cannot be reached.
    public init(from decoder: any Decoder) throws {
        address = try decoder.singleValueContainer().decode(String.self)
        let connection = socket(AF_UNIX, SocketPairKind.seqpacket, 0)
        guard connection >= 0 else { throw ProcessChannelError.system(operation: "socket", code: errno) }
        guard Self.withAddress(address, { connect(connection, $0, $1) }) == 0 else {
            let code = errno
            close(connection)
            throw ProcessChannelError.system(operation: "connect to @\(address)", code: code)
        }
        role = .client(MessageSocket(owning: connection))
    }

    // MARK: Serving

    @Hub
    private static func serve(listener: Int32, storage: Store) async throws {
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
                connections.append(spawn(name: "SharedDictionary connection") {
                    do {
                        while let request = try await connection.receive(Request.self, timeout: nil) {
                            try await connection.send(answer(request, storage: storage))
                        }
                    } catch ProcessChannelError.closed {
                        // The client's copy went away: its job ended.
                    }
                })
            }
        }
    }

    private static func answer(_ request: Request, storage: Store) -> Reply {
        storage.entries.withLock { dictionary in
            switch request {
            case .get(let key):
                return Reply(value: dictionary[key])
            case .set(let key, let value):
                dictionary[key] = value
                return Reply()
            case .remove(let key):
                return Reply(value: dictionary.removeValue(forKey: key))
            case .snapshot:
                return Reply(all: dictionary)
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
