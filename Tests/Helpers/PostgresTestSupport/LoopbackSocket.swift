import Glibc

/// A TCP socket bound to a port of 127.0.0.1 the kernel chose, and its port; listening (a
/// backlog of 8) if `listening`: it then takes connections and answers none, as a server that
/// hangs. The caller closes `fd`.
///
/// - Throws: ``PostgresTestServerError`` naming the call that failed.
public func loopbackSocket(listening: Bool) throws -> (fd: Int32, port: Int) {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw PostgresTestServerError(step: "socket", output: String(cString: strerror(errno))) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let ready = withUnsafeMutablePointer(to: &address) { pointer in
        pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            bind(fd, $0, length) == 0 && (!listening || listen(fd, 8) == 0) && getsockname(fd, $0, &length) == 0
        }
    }
    guard ready else {
        let message = String(cString: strerror(errno))
        close(fd)
        throw PostgresTestServerError(step: listening ? "bind and listen" : "bind", output: message)
    }
    return (fd, Int(UInt16(bigEndian: address.sin_port)))
}
