import Glibc

/// One message on a fork server's control socket (a datagram socketpair): a kind byte,
/// a payload, and descriptors passed with `SCM_RIGHTS`.
///
/// Parent → server: `w` + the request's sequence number + the worker's environment
/// (`NAME=value` strings, each ended by a NUL) with its stdout, stderr, channel and
/// descriptor-channel ends, or `n` (no pool needs a spare now: drop it, fork none until the
/// next `w`). Server → parent: `s` + sequence + pid (the worker started; the worker sends the
/// same message too), `e` + sequence + errno (the fork failed), or `p` + pid (a spare was
/// forked, ``ForkServer/Spare``: the parent adopts it). `p` and `n` came with wire protocol 7
/// (``WorkerEnvironment/protocolVersion``): a server forks spares only for a parent that says
/// it speaks its protocol (``ForkServer/protocolMarker``).
struct ForkServerMessage {
    enum Kind: UInt8 {
        case startWorker = 0x77 // w
        case dropSpare = 0x6E   // n
        case started = 0x73     // s
        case failed = 0x65      // e
        case spare = 0x70       // p
    }

    var kind: Kind
    var payload: [UInt8] = []
    var descriptors: [Int32] = []

    /// The bytes of a request's sequence number, before the environment.
    static let sequenceBytes = 4
    /// The most descriptors one message carries.
    static let maxDescriptors = 8
    /// The largest message (an environment of 256 KiB is far beyond any seen).
    static let maxBytes = 1 << 18

    init(kind: Kind, payload: [UInt8] = [], descriptors: [Int32] = []) {
        self.kind = kind
        self.payload = payload
        self.descriptors = descriptors
    }

    init(kind: Kind, numbers: [Int32], descriptors: [Int32] = []) {
        self.init(kind: kind, descriptors: descriptors)
        for number in numbers { withUnsafeBytes(of: number.littleEndian) { payload.append(contentsOf: $0) } }
    }

    /// The payload read as little-endian 32-bit numbers.
    var numbers: [Int32] {
        stride(from: 0, to: payload.count - 3, by: 4).map { offset in
            Int32(littleEndian: payload.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: offset, as: Int32.self) })
        }
    }

    /// Sends the message, waiting for room in the socket unless `waiting` is false; returns
    /// 0 or `errno`.
    func send(on socket: Int32, waiting: Bool = true) -> Int32 {
        var bytes = [kind.rawValue] + payload
        let space = Self.controlSpace(descriptors.count)
        let control = UnsafeMutableRawPointer.allocate(byteCount: max(space, 1), alignment: 8)
        defer { control.deallocate() }
        control.initializeMemory(as: UInt8.self, repeating: 0, count: max(space, 1))
        return bytes.withUnsafeMutableBytes { buffer in
            var vector = iovec(iov_base: buffer.baseAddress, iov_len: buffer.count)
            return withUnsafeMutablePointer(to: &vector) { vectorPointer in
                var message = msghdr()
                message.msg_iov = vectorPointer
                message.msg_iovlen = 1
                if !descriptors.isEmpty {
                    let header = control.assumingMemoryBound(to: cmsghdr.self)
                    header.pointee.cmsg_level = SOL_SOCKET
                    header.pointee.cmsg_type = Int32(SCM_RIGHTS)
                    header.pointee.cmsg_len = MemoryLayout<cmsghdr>.stride + descriptors.count * MemoryLayout<Int32>.size
                    let data = (control + MemoryLayout<cmsghdr>.stride).assumingMemoryBound(to: Int32.self)
                    for (index, fd) in descriptors.enumerated() { data[index] = fd }
                    message.msg_control = control
                    message.msg_controllen = space
                }
                while true {
                    if sendmsg(socket, &message, Int32(MSG_NOSIGNAL) | (waiting ? 0 : Int32(MSG_DONTWAIT))) >= 0 { return 0 }
                    if errno != EINTR { return errno }
                }
            }
        }
    }

    /// What a receive found.
    enum Received {
        case message(ForkServerMessage)
        /// The peer closed its end (or the socket failed).
        case end
        /// Nothing to read on a non-blocking socket.
        case nothing
        /// A datagram that is not a message (its descriptors are closed).
        case invalid
    }

    /// Receives one message (blocking unless the socket is non-blocking); its descriptors
    /// arrive close-on-exec.
    static func receive(on socket: Int32, buffer: UnsafeMutableRawBufferPointer) -> Received {
        let space = controlSpace(maxDescriptors)
        let control = UnsafeMutableRawPointer.allocate(byteCount: space, alignment: 8)
        defer { control.deallocate() }
        control.initializeMemory(as: UInt8.self, repeating: 0, count: space)
        var vector = iovec(iov_base: buffer.baseAddress, iov_len: buffer.count)
        return withUnsafeMutablePointer(to: &vector) { vectorPointer -> Received in
            var message = msghdr()
            message.msg_iov = vectorPointer
            message.msg_iovlen = 1
            message.msg_control = control
            message.msg_controllen = space
            var count = recvmsg(socket, &message, Int32(MSG_CMSG_CLOEXEC))
            // A peer that closed with messages of ours still unread leaves ECONNRESET, and the
            // kernel reports it once, BEFORE the messages the peer (or a process holding a
            // copy of its end) sent us: those come after it, then the end.
            while count < 0 && (errno == EINTR || errno == ECONNRESET) {
                count = recvmsg(socket, &message, Int32(MSG_CMSG_CLOEXEC))
            }
            var descriptors: [Int32] = []
            if count >= 0, message.msg_controllen >= MemoryLayout<cmsghdr>.stride {
                let header = control.assumingMemoryBound(to: cmsghdr.self)
                if header.pointee.cmsg_level == SOL_SOCKET, header.pointee.cmsg_type == Int32(SCM_RIGHTS) {
                    let fdCount = (Int(header.pointee.cmsg_len) - MemoryLayout<cmsghdr>.stride) / MemoryLayout<Int32>.size
                    let data = (control + MemoryLayout<cmsghdr>.stride).assumingMemoryBound(to: Int32.self)
                    descriptors = (0..<fdCount).map { data[$0] }
                }
            }
            if count < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) { return .nothing }
            guard count > 0 else { return .end }
            guard message.msg_flags & Int32(MSG_TRUNC | MSG_CTRUNC) == 0, let kind = Kind(rawValue: buffer[0]) else {
                for fd in descriptors { close(fd) }
                return .invalid
            }
            return .message(ForkServerMessage(kind: kind, payload: Array(buffer[1..<count]), descriptors: descriptors))
        }
    }

    private static func controlSpace(_ count: Int) -> Int {
        count == 0 ? 0 : MemoryLayout<cmsghdr>.stride + (count * MemoryLayout<Int32>.size + 7) / 8 * 8
    }
}
