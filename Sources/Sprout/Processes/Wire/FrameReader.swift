/// Reassembles frames from the bytes a channel delivers in arbitrary pieces.
package struct FrameReader {
    private var buffer: [UInt8] = []
    private var head = 0

    /// A reader with nothing received yet.
    package init() {}

    /// Adds bytes read from the channel.
    package mutating func append(_ bytes: UnsafeRawBufferPointer) {
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
    package var pendingBytes: Int { buffer.count - head }

    /// The next whole frame, or `nil` until more bytes arrive.
    ///
    /// - Throws: ``ChannelError/corruptFrame(_:)`` for an unknown kind or impossible length.
    package mutating func next() throws(ChannelError) -> Frame? {
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
    package func checkComplete() throws(ChannelError) {
        let available = buffer.count - head
        guard available > 0 else { return }
        var need = Frame.headerSize
        if available >= 4 {
            need += Int(buffer[head]) | Int(buffer[head + 1]) << 8 | Int(buffer[head + 2]) << 16 | Int(buffer[head + 3]) << 24
        }
        throw .truncatedFrame(have: available, need: need)
    }
}
