import CLibuv

/// A Unix-domain stream socket connection, with the same reading and writing as a TCP
/// connection (see ``ByteStream``). Made by ``connect(path:timeout:)-(_,Double?)`` or handed to the
/// handler of a ``StreamServer`` created with `unixPath:`.
@Hub
public final class UnixStream: ByteStream {
    /// The socket's path in the file system.
    public let path: String

    /// A fresh, unconnected Unix-domain socket handle on the hub.
    package init(path: String) throws(IOError) {
        self.path = path
        let handle = UnsafeMutablePointer<uv_pipe_t>.allocate(capacity: 1)
        let rc = uv_pipe_init(Hub.loop, handle, 0)
        if rc != 0 {
            handle.deallocate()
            throw IOError(code: rc, operation: "create Unix socket for", peer: path)
        }
        super.init(handle: UnsafeMutableRawPointer(handle).assumingMemoryBound(to: uv_stream_t.self))
    }

    /// Connects to the Unix-domain socket at `path`.
    ///
    /// - Throws: ``IOError`` (`connect /tmp/app.sock: ENOENT`, `ECONNREFUSED`, `ETIMEDOUT`
    ///   after `timeout`); `CancellationError` if the greenlet is killed.
    public static func connect(path: String, timeout: Double? = nil) async throws -> UnixStream {
        let connection = try UnixStream(path: path)
        let pipe = UnsafeMutableRawPointer(connection.stream).assumingMemoryBound(to: uv_pipe_t.self)
        try await connection.awaitConnect(to: path, timeout: timeout) { request, callback in
            uv_pipe_connect(request, pipe, path, callback)
            return 0
        }
        return connection
    }

    package override func peerDescription() -> String { path }

    /// Accepts one pending connection from a listening Unix socket bound to `path`.
    package static func accept(from server: UnsafeMutablePointer<uv_stream_t>, path: String) throws(IOError) -> UnixStream {
        let connection = try UnixStream(path: path)
        let rc = uv_accept(server, connection.stream)
        if rc != 0 {
            connection.abort()
            throw IOError(code: rc, operation: "accept on", peer: path)
        }
        return connection
    }
}
