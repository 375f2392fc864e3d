import Glibc
import Synchronization

/// An open file descriptor — typically a connected socket — that travels inside a job to
/// the worker running it, passed with `SCM_RIGHTS`: the seeds' "a server accepts
/// connections and hands each to a pool worker".
///
/// In the parent, wrap a descriptor you own; the job holds its own duplicate, so you may
/// close yours once the job is submitted. In the worker, ``fd`` is open while `run()` runs
/// and closed by Sprout afterwards (`dup` it to keep it). Encoding one anywhere but in a
/// job sent to a worker throws.
public struct PassedDescriptor: Codable, Sendable {
    /// The descriptor in the current process.
    public let fd: Int32

    /// Wraps `fd` (still owned by the caller) for sending.
    public init(_ fd: Int32) {
        self.fd = fd
    }

    /// Attaches a duplicate of the descriptor to the job being encoded.
    ///
    /// - Throws: `EncodingError` outside a job sent to a worker, or if `dup` fails.
    public func encode(to encoder: any Encoder) throws {
        guard let outgoing = DescriptorTransfer.outgoing else {
            throw EncodingError.invalidValue(fd, .init(codingPath: encoder.codingPath,
                debugDescription: "a PassedDescriptor can only be encoded as part of a job sent to a worker"))
        }
        let copy = dup(fd)
        guard copy >= 0 else {
            throw EncodingError.invalidValue(fd, .init(codingPath: encoder.codingPath,
                debugDescription: "dup(\(fd)) failed: \(String(cString: strerror(errno)))"))
        }
        var container = encoder.singleValueContainer()
        try container.encode(outgoing.add(copy))
    }

    /// Takes the descriptor that arrived with the job.
    ///
    /// - Throws: `DecodingError` if the job did not carry it.
    public init(from decoder: any Decoder) throws {
        let index = try decoder.singleValueContainer().decode(Int.self)
        guard let received = DescriptorTransfer.received, index >= 0, index < received.count else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath,
                debugDescription: "the job's descriptor \(index) did not arrive"))
        }
        fd = received[index]
    }
}

/// The descriptors attached to the job being encoded (parent) or decoded (worker).
enum DescriptorTransfer {
    @TaskLocal static var outgoing: DescriptorCollector?
    @TaskLocal static var received: [Int32]?
}

/// Gathers the duplicates a job's encoding attaches.
final class DescriptorCollector: Sendable {
    private let list = ThreadMutex<[Int32]>([])

    /// Adds `fd`; returns its index in the job.
    func add(_ fd: Int32) -> Int {
        list.withLock { list in
            list.append(fd)
            return list.count - 1
        }
    }

    var fds: [Int32] { list.withLock { $0 } }
}

/// Sending and receiving descriptors on a worker's descriptor channel (a datagram
/// socketpair beside the frame channel): one datagram per job that carries descriptors, in
/// the order of the jobs, so the worker finds them in order.
enum DescriptorChannel {
    static let maxPerJob = 64

    /// Sends `fds` as one datagram without waiting (none for an empty list: the datagram
    /// only keeps the worker's count); returns `errno` on failure (`EAGAIN` when the
    /// channel is full), 0 on success.
    static func send(_ fds: [Int32], on socket: Int32) -> Int32 {
        withMessage(room: fds.count) { message, control in
            if fds.isEmpty {
                message.msg_control = nil
                message.msg_controllen = 0
                return sendmsg(socket, &message, Int32(MSG_NOSIGNAL | MSG_DONTWAIT)) == 1 ? 0 : errno
            }
            let header = control.assumingMemoryBound(to: cmsghdr.self)
            header.pointee.cmsg_level = SOL_SOCKET
            header.pointee.cmsg_type = Int32(SCM_RIGHTS)
            header.pointee.cmsg_len = cmsgLength(fds.count)
            let data = (control + MemoryLayout<cmsghdr>.stride).assumingMemoryBound(to: Int32.self)
            for (index, fd) in fds.enumerated() { data[index] = fd }
            return sendmsg(socket, &message, Int32(MSG_NOSIGNAL | MSG_DONTWAIT)) == 1 ? 0 : errno
        }
    }

    /// Receives one datagram's descriptors (blocking).
    static func receive(on socket: Int32) -> [Int32] {
        withMessage(room: maxPerJob) { message, control in
            var count = recvmsg(socket, &message, Int32(MSG_CMSG_CLOEXEC))
            while count < 0 && errno == EINTR { count = recvmsg(socket, &message, Int32(MSG_CMSG_CLOEXEC)) }
            guard count > 0, message.msg_controllen >= MemoryLayout<cmsghdr>.stride else { return [] }
            let header = control.assumingMemoryBound(to: cmsghdr.self)
            guard header.pointee.cmsg_level == SOL_SOCKET, header.pointee.cmsg_type == Int32(SCM_RIGHTS) else { return [] }
            let fdCount = (Int(header.pointee.cmsg_len) - MemoryLayout<cmsghdr>.stride) / MemoryLayout<Int32>.size
            let data = (control + MemoryLayout<cmsghdr>.stride).assumingMemoryBound(to: Int32.self)
            return (0..<fdCount).map { data[$0] }
        }
    }

    /// Calls `body` with a one-byte message whose control buffer has room for `room`
    /// descriptors.
    private static func withMessage<T>(room: Int, _ body: (inout msghdr, UnsafeMutableRawPointer) -> T) -> T {
        var byte: UInt8 = 0
        let space = cmsgSpace(room)
        let control = UnsafeMutableRawPointer.allocate(byteCount: space, alignment: 8)
        defer { control.deallocate() }
        control.initializeMemory(as: UInt8.self, repeating: 0, count: space)
        return withUnsafeMutablePointer(to: &byte) { bytePointer in
            var vector = iovec(iov_base: bytePointer, iov_len: 1)
            return withUnsafeMutablePointer(to: &vector) { vectorPointer in
                var message = msghdr()
                message.msg_iov = vectorPointer
                message.msg_iovlen = 1
                message.msg_control = control
                message.msg_controllen = space
                return body(&message, control)
            }
        }
    }

    private static func cmsgLength(_ count: Int) -> Int {
        MemoryLayout<cmsghdr>.stride + count * MemoryLayout<Int32>.size
    }

    private static func cmsgSpace(_ count: Int) -> Int {
        MemoryLayout<cmsghdr>.stride + (count * MemoryLayout<Int32>.size + 7) / 8 * 8
    }
}
