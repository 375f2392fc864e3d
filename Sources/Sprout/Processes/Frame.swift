/// What a frame on a worker channel carries.
enum FrameKind: UInt8, Sendable {
    /// Worker → parent, once at start: the job types it serves (JSON).
    case hello = 1
    /// Parent → worker: run a job; payload is `u16 name length | name | encoded job`.
    case job = 2
    /// Worker → parent: the job with this id returned; payload is its encoded output.
    case result = 3
    /// Worker → parent: the job with this id threw; payload is an encoded ``WireFailure``.
    case failure = 4
    /// Parent → worker: run this job once before any other (the pool's initializer).
    case initialize = 5
    /// Parent → worker: a job that carries descriptors; payload is `u8 count | job payload`,
    /// the descriptors themselves travel on the descriptor channel.
    case jobWithDescriptors = 6
}

/// One decoded frame: `u32 length | u8 kind | u64 id | payload`, little-endian, where
/// `length` counts the payload bytes only.
struct Frame: Sendable {
    static let headerSize = 13
    /// Frames larger than this are treated as corruption rather than allocated.
    static let maxPayload = 1 << 30

    var kind: FrameKind
    var id: UInt64
    var payload: [UInt8]

    /// Appends the frame's header for a payload of `length` bytes to `buffer`.
    static func appendHeader(kind: FrameKind, id: UInt64, length: Int, to buffer: inout [UInt8]) {
        let size = UInt32(length)
        buffer.append(UInt8(truncatingIfNeeded: size))
        buffer.append(UInt8(truncatingIfNeeded: size >> 8))
        buffer.append(UInt8(truncatingIfNeeded: size >> 16))
        buffer.append(UInt8(truncatingIfNeeded: size >> 24))
        buffer.append(kind.rawValue)
        for shift in stride(from: 0, to: 64, by: 8) {
            buffer.append(UInt8(truncatingIfNeeded: id >> UInt64(shift)))
        }
    }

    /// Appends a whole frame to `buffer`.
    static func append(kind: FrameKind, id: UInt64, payload: [UInt8], to buffer: inout [UInt8]) {
        appendHeader(kind: kind, id: id, length: payload.count, to: &buffer)
        buffer.append(contentsOf: payload)
    }

    /// Appends a job frame (`u16 name length | name | job bytes`) to `buffer`; with
    /// descriptors, a ``FrameKind/jobWithDescriptors`` frame announcing how many.
    static func appendJob(kind: FrameKind, id: UInt64, name: [UInt8], job: [UInt8], descriptors: Int = 0,
                          to buffer: inout [UInt8]) {
        if descriptors > 0 {
            appendHeader(kind: .jobWithDescriptors, id: id, length: 3 + name.count + job.count, to: &buffer)
            buffer.append(UInt8(descriptors))
        } else {
            appendHeader(kind: kind, id: id, length: 2 + name.count + job.count, to: &buffer)
        }
        buffer.append(UInt8(truncatingIfNeeded: name.count))
        buffer.append(UInt8(truncatingIfNeeded: name.count >> 8))
        buffer.append(contentsOf: name)
        buffer.append(contentsOf: job)
    }

    /// Splits a job frame's payload into the job's type name and its encoded bytes.
    static func splitJob(_ payload: [UInt8]) throws(ChannelError) -> (name: String, job: ArraySlice<UInt8>) {
        guard payload.count >= 2 else { throw .corruptFrame("job frame of \(payload.count) bytes has no name") }
        let length = Int(payload[0]) | Int(payload[1]) << 8
        guard payload.count >= 2 + length else { throw .corruptFrame("job frame's name runs past its end") }
        let name = String(decoding: payload[2..<(2 + length)], as: UTF8.self)
        return (name, payload[(2 + length)...])
    }
}

/// Something wrong with a worker channel's bytes.
public enum ChannelError: Error, Equatable, CustomStringConvertible, Sendable {
    /// A frame's header or payload does not follow the wire format.
    case corruptFrame(String)
    /// The channel ended in the middle of a frame.
    case truncatedFrame(have: Int, need: Int)

    public var description: String {
        switch self {
        case .corruptFrame(let detail): "corrupt frame on a worker channel: \(detail)"
        case .truncatedFrame(let have, let need): "worker channel ended inside a frame (\(have) of \(need) bytes)"
        }
    }
}

/// Reassembles frames from the bytes a channel delivers in arbitrary pieces.
struct FrameReader {
    private var buffer: [UInt8] = []
    private var head = 0

    /// Adds bytes read from the channel.
    mutating func append(_ bytes: UnsafeRawBufferPointer) {
        if head > 0 && head == buffer.count {
            buffer.removeAll(keepingCapacity: true)
            head = 0
        } else if head > 65_536 && head * 2 > buffer.count {
            buffer.removeFirst(head)
            head = 0
        }
        buffer.append(contentsOf: bytes)
    }

    /// Bytes received that do not make a whole frame yet.
    var pendingBytes: Int { buffer.count - head }

    /// The next whole frame, or `nil` until more bytes arrive.
    ///
    /// - Throws: ``ChannelError/corruptFrame(_:)`` for an unknown kind or impossible length.
    mutating func next() throws(ChannelError) -> Frame? {
        let available = buffer.count - head
        guard available >= Frame.headerSize else { return nil }
        let header = head
        let length = Int(buffer[header]) | Int(buffer[header + 1]) << 8
            | Int(buffer[header + 2]) << 16 | Int(buffer[header + 3]) << 24
        guard let kind = FrameKind(rawValue: buffer[header + 4]) else {
            throw .corruptFrame("unknown frame kind \(buffer[header + 4])")
        }
        guard length <= Frame.maxPayload else { throw .corruptFrame("frame length \(length) exceeds the limit") }
        guard available >= Frame.headerSize + length else { return nil }
        var id: UInt64 = 0
        for index in 0..<8 {
            id |= UInt64(buffer[header + 5 + index]) << UInt64(8 * index)
        }
        let start = header + Frame.headerSize
        let payload = Array(buffer[start..<(start + length)])
        head = start + length
        return Frame(kind: kind, id: id, payload: payload)
    }

    /// Throws if the channel ended with part of a frame unread.
    func checkComplete() throws(ChannelError) {
        let available = buffer.count - head
        guard available > 0 else { return }
        var need = Frame.headerSize
        if available >= 4 {
            need += Int(buffer[head]) | Int(buffer[head + 1]) << 8 | Int(buffer[head + 2]) << 16 | Int(buffer[head + 3]) << 24
        }
        throw .truncatedFrame(have: available, need: need)
    }
}
