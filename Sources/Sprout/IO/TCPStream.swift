import CLibuv

/// A TCP connection whose reads and writes suspend only the calling greenlet — gevent's
/// cooperative socket. Made by ``connect(host:port:timeout:)-(_,_,Double?)`` or handed to a
/// ``StreamServer`` handler. Nagle's algorithm is off (`TCP_NODELAY`), so small writes
/// leave at once. See ``ByteStream`` for reading, writing and closing.
@Hub
public final class TCPStream: ByteStream {
    private var cachedRemote: SocketAddress?

    /// A fresh, unconnected TCP handle on the hub.
    package init() throws(IOError) {
        let handle = UnsafeMutablePointer<uv_tcp_t>.allocate(capacity: 1)
        let rc = uv_tcp_init(Hub.loop, handle)
        if rc != 0 {
            handle.deallocate()
            throw IOError(code: rc, operation: "create TCP socket")
        }
        super.init(handle: UnsafeMutableRawPointer(handle).assumingMemoryBound(to: uv_stream_t.self))
    }

    var tcp: UnsafeMutablePointer<uv_tcp_t> {
        UnsafeMutableRawPointer(stream).assumingMemoryBound(to: uv_tcp_t.self)
    }

    /// Connects to `host` (a name or a numeric IPv4/IPv6 address) on `port`, trying each
    /// address the resolver returns in turn.
    ///
    /// - Parameters:
    ///   - host: a name or a numeric IPv4 or IPv6 address.
    ///   - port: the port to connect to.
    ///   - timeout: seconds for the lookup and the connection together (`nil`: the
    ///     kernel's own limit).
    /// - Throws: ``IOError`` from the last address tried, e.g.
    ///   `connect 127.0.0.1:9: ECONNREFUSED`; `ETIMEDOUT` when `timeout` passes; a
    ///   resolver error for an unknown name; `CancellationError` if the greenlet is killed.
    public static func connect(host: String, port: Int, timeout: Double? = nil) async throws -> TCPStream {
        let deadline = Deadline(timeout: timeout)
        let addresses = try await getAddressInfo(host: host, port: port, timeout: timeout)
        var lastError: (any Error)?
        for address in addresses {
            do {
                return try await connect(to: address, timeout: deadline?.secondsLeft)
            } catch let error as IOError {
                lastError = error
                if error.code == Int32(UV_ETIMEDOUT.rawValue) && deadline != nil { break }
            }
        }
        throw lastError!
    }

    /// Connects to one address.
    ///
    /// - Throws: ``IOError`` (`connect [::1]:80: ECONNREFUSED`, `ETIMEDOUT` after
    ///   `timeout`); `CancellationError` if the greenlet is killed.
    public static func connect(to address: SocketAddress, timeout: Double? = nil) async throws -> TCPStream {
        let connection = try TCPStream()
        try await connection.awaitConnect(to: "\(address)", timeout: timeout) { request, callback in
            address.withSockaddr { uv_tcp_connect(request, connection.tcp, $0, callback) }
        }
        connection.cachedRemote = address
        uv_tcp_nodelay(connection.tcp, 1)
        return connection
    }

    /// The address of this end of the connection; `nil` once the socket is closed.
    public var localAddress: SocketAddress? {
        SocketAddress.read { uv_tcp_getsockname(tcp, $0, $1) }
    }

    /// The address of the peer; `nil` if it cannot be known (the socket was closed before
    /// it was first asked for).
    public var remoteAddress: SocketAddress? {
        if cachedRemote == nil {
            cachedRemote = SocketAddress.read { uv_tcp_getpeername(tcp, $0, $1) }
        }
        return cachedRemote
    }

    /// Turns Nagle's algorithm back on (`false`) or off (`true`, the default).
    ///
    /// - Throws: ``IOError`` if the socket option cannot be set.
    public func setNoDelay(_ enabled: Bool) throws(IOError) {
        let rc = uv_tcp_nodelay(tcp, enabled ? 1 : 0)
        if rc != 0 { throw IOError(code: rc, operation: "set TCP_NODELAY on", peer: peerDescription()) }
    }

    package override func peerDescription() -> String {
        remoteAddress?.description ?? "TCP socket"
    }

    /// Accepts one pending connection from `server`.
    package static func accept(from server: UnsafeMutablePointer<uv_stream_t>) throws(IOError) -> TCPStream {
        let connection = try TCPStream()
        let rc = uv_accept(server, connection.stream)
        if rc != 0 {
            connection.abort()
            throw IOError(code: rc, operation: "accept")
        }
        uv_tcp_nodelay(connection.tcp, 1)
        return connection
    }
}
