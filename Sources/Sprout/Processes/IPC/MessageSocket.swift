import Glibc
import FoundationEssentials

/// One end of a `SOCK_SEQPACKET` socket carrying JSON-encoded values, one per message. A
/// message is written and read whole, so any number of processes may share an end.
///
/// On the hub, waits go through an `FDWatcher` (greenlets switch); elsewhere — in a worker's
/// job — the calls block their thread.
final class MessageSocket: @unchecked Sendable {
    static let maxMessage = 128 * 1024

    let fd: Int32
    /// Only touched on the hub thread.
    nonisolated(unsafe) private var watcher: FDWatcher?

    init(owning fd: Int32) {
        self.fd = fd
    }

    /// Keeps its own duplicate of a descriptor that arrived with a job (the job's copy is
    /// closed when the job ends; this one lives as long as the object).
    ///
    /// - Throws: ``ProcessChannelError/system(operation:code:)`` if `dup` fails.
    convenience init(adopting passed: PassedDescriptor) throws {
        let copy = fcntl(passed.fd, F_DUPFD_CLOEXEC, 0)
        guard copy >= 0 else { throw ProcessChannelError.system(operation: "dup", code: errno) }
        self.init(owning: copy)
    }

    deinit {
        let fd = self.fd
        if let watcher {
            Hub.later {
                watcher.close()
                Glibc.close(fd)
            }
        } else {
            Glibc.close(fd)
        }
    }

    /// A connected pair of new message sockets.
    static func pair() throws(ProcessChannelError) -> (MessageSocket, MessageSocket) {
        var fds: [Int32] = [-1, -1]
        guard socketpair(AF_UNIX, SocketPairKind.seqpacket, 0, &fds) == 0 else {
            throw .system(operation: "socketpair", code: errno)
        }
        var size = Int32(maxMessage * 4)
        for fd in fds {
            setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        }
        return (MessageSocket(owning: fds[0]), MessageSocket(owning: fds[1]))
    }

    /// Sends `value` as one message.
    func send<Value: Encodable>(_ value: Value) async throws {
        let bytes: Data
        do {
            bytes = try JSONEncoder().encode(value)
        } catch {
            throw ProcessChannelError.coding("\(error)")
        }
        guard bytes.count <= Self.maxMessage else { throw ProcessChannelError.tooLarge(bytes: bytes.count) }
        while true {
            let sent = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL | MSG_DONTWAIT)) }
            if sent >= 0 { return }
            switch errno {
            case EINTR: continue
            case EAGAIN, EWOULDBLOCK: try await waitFor(writable: true, timeout: nil)
            case EPIPE, ECONNRESET: throw ProcessChannelError.closed
            case let code: throw ProcessChannelError.system(operation: "send", code: code)
            }
        }
    }

    /// Receives one message and decodes it; `nil` if `timeout` passed first.
    func receive<Value: Decodable>(_ type: Value.Type, timeout: Double?) async throws -> Value? {
        let deadline = Deadline(timeout: timeout)
        while true {
            if let value = try receiveNow(type) { return value }
            if deadline?.hasPassed == true { return nil }
            try await waitFor(writable: false, timeout: deadline?.secondsLeft)
        }
    }

    /// Receives one message if one is waiting, without waiting; `nil` if none is.
    ///
    /// - Throws: ``ProcessChannelError/closed`` once every holder of the other end closed
    ///   it; ``ProcessChannelError/coding(_:)``, ``ProcessChannelError/system(operation:code:)``.
    func receiveNow<Value: Decodable>(_ type: Value.Type) throws(ProcessChannelError) -> Value? {
        var buffer = [UInt8](repeating: 0, count: Self.maxMessage)
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
            if count > 0 {
                do {
                    return try JSONDecoder().decode(type, from: Data(buffer[0..<count]))
                } catch {
                    throw .coding("\(error)")
                }
            }
            if count == 0 { throw .closed }
            switch errno {
            case EINTR: continue
            case EAGAIN, EWOULDBLOCK: return nil
            case let code: throw .system(operation: "recv", code: code)
            }
        }
    }

    /// True if a message is waiting to be received now.
    var hasMessage: Bool {
        var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        return poll(&poller, 1, 0) > 0 && poller.revents & Int16(POLLIN) != 0
    }

    /// Waits for the socket: through the hub's poller on the hub, with `poll` elsewhere.
    /// Greenlets run on the hub (their tasks prefer its executor), so this takes the first
    /// branch there; a worker's job runs on the worker's own thread and may block it.
    private func waitFor(writable: Bool, timeout: Double?) async throws {
        if Hub.isCurrent {
            let poller = try Hub.assumeIsolated { () throws -> FDWatcher in
                if let watcher { return watcher }
                let made = try FDWatcher(fd: fd)
                watcher = made
                return made
            }
            _ = writable ? try await poller.waitWritable(timeout: timeout) : try await poller.waitReadable(timeout: timeout)
            return
        }
        var poller = pollfd(fd: fd, events: Int16(writable ? POLLOUT : POLLIN), revents: 0)
        let milliseconds = timeout.map { Int32(min($0 * 1000, Double(Int32.max))) } ?? -1
        _ = poll(&poller, 1, milliseconds)
    }
}
