/// Reassembles frames from the bytes a channel delivers in arbitrary pieces.
///
/// A large frame's payload is gathered straight into its own array, so its bytes are
/// copied once after the read and never buffered twice. That array grows with the bytes
/// received, never to the length a header announces: a worker that announces 1 GiB and
/// sends 10 bytes costs 10 bytes, not 1 GiB.
package struct FrameReader {
    /// Payloads at least this long are gathered in place.
    static let largePayload = 1 << 16

    private var buffer: [UInt8] = []
    private var head = 0
    /// The large frame being gathered, with the payload length its header announced.
    private var large: (kind: FrameKind, id: UInt64, payload: [UInt8], length: Int)?

    /// A reader with nothing received yet.
    package init() {}

    /// Adds bytes read from the channel.
    package mutating func append(_ bytes: UnsafeRawBufferPointer) {
        var rest = bytes
        if var frame = large, frame.payload.count < frame.length {
            large = nil
            let taken = min(frame.length - frame.payload.count, rest.count)
            frame.payload.append(contentsOf: UnsafeRawBufferPointer(rebasing: rest[0..<taken]))
            large = frame
            rest = UnsafeRawBufferPointer(rebasing: rest[taken...])
            if rest.isEmpty { return }
        }
        if head > 0 && head == buffer.count {
            buffer.removeAll(keepingCapacity: true)
            head = 0
        } else if head > 65_536 && head * 2 > buffer.count {
            buffer.removeFirst(head)
            head = 0
        }
        buffer.append(contentsOf: rest)
    }

    /// Bytes of memory the reader holds for frames not yet handed out.
    package var reservedBytes: Int { buffer.capacity + (large?.payload.capacity ?? 0) }

    /// Bytes received that do not make a whole frame yet.
    package var pendingBytes: Int { buffer.count - head + (large.map { Frame.headerSize + $0.payload.count } ?? 0) }

    /// The next whole frame, or `nil` until more bytes arrive.
    ///
    /// - Throws: ``ChannelError/corruptFrame(_:)`` for an unknown kind or impossible length.
    package mutating func next() throws(ChannelError) -> Frame? {
        if let frame = large {
            guard frame.payload.count == frame.length else { return nil }
            large = nil
            return Frame(kind: frame.kind, id: frame.id, payload: frame.payload)
        }
        let available = buffer.count - head
        guard available >= Frame.headerSize else { return nil }
        let header = head
        let length = Int(buffer[header]) | Int(buffer[header + 1]) << 8
            | Int(buffer[header + 2]) << 16 | Int(buffer[header + 3]) << 24
        guard let kind = FrameKind(rawValue: buffer[header + 4]) else {
            throw .corruptFrame("unknown frame kind \(buffer[header + 4])")
        }
        guard length <= Frame.maxPayload else { throw .corruptFrame("frame length \(length) exceeds the limit") }
        var id: UInt64 = 0
        for index in 0..<8 {
            id |= UInt64(buffer[header + 5 + index]) << UInt64(8 * index)
        }
        let start = header + Frame.headerSize
        guard available >= Frame.headerSize + length else {
            if length >= Self.largePayload {
                // The rest of this frame goes straight into its payload.
                let payload = Array(buffer[start...])
                head = buffer.count
                large = (kind, id, payload, length)
            }
            return nil
        }
        let payload = Array(buffer[start..<(start + length)])
        head = start + length
        return Frame(kind: kind, id: id, payload: payload)
    }

    /// Throws if the channel ended with part of a frame unread.
    package func checkComplete() throws(ChannelError) {
        if let large {
            throw .truncatedFrame(have: Frame.headerSize + large.payload.count, need: Frame.headerSize + large.length)
        }
        let available = buffer.count - head
        guard available > 0 else { return }
        var need = Frame.headerSize
        if available >= 4 {
            need += Int(buffer[head]) | Int(buffer[head + 1]) << 8 | Int(buffer[head + 2]) << 16 | Int(buffer[head + 3]) << 24
        }
        throw .truncatedFrame(have: available, need: need)
    }
}
