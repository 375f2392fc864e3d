/// Several jobs of one type in one frame (``FrameKind/jobChunk``), so a map over tiny jobs
/// costs one frame and one write per chunk rather than per job. Payload:
/// `u16 name length | name | u32 count | count × (u64 id | u32 length | job bytes)`,
/// little-endian. Each item keeps its own id: the worker counts, runs and answers items
/// one by one, so a crash or a cancellation still concerns single jobs.
package enum JobChunk {
    /// Bytes of the count and of each item's id and length.
    static let countSize = 4
    static let itemOverhead = 12

    /// Appends a whole chunk frame to `buffer` for the jobs whose encoded bytes lie at
    /// `ranges` (at least one; `bytes`' indices) in `bytes`, with ids `firstID`, `firstID + 1`, … in order;
    /// the frame's id is the first one's. Sizes were checked where the jobs were encoded.
    static func append(name: [UInt8], firstID: UInt64, bytes: ArraySlice<UInt8>, ranges: ArraySlice<Range<Int>>,
                       to buffer: inout [UInt8]) {
        var length = 2 + name.count + countSize
        for range in ranges { length += itemOverhead + range.count }
        // Room for the whole frame, then written in place: a chunk holds thousands of jobs.
        var offset = buffer.count
        buffer.append(contentsOf: repeatElement(0, count: Frame.headerSize + length))
        buffer.withUnsafeMutableBytes { frame in
            bytes.withUnsafeBytes { source in
                let target = frame.baseAddress! + offset
                Frame.writeHeader(kind: .jobChunk, id: firstID, length: length, to: target)
                var at = Frame.headerSize
                target.storeBytes(of: UInt16(truncatingIfNeeded: name.count).littleEndian, toByteOffset: at, as: UInt16.self)
                at += 2
                name.withUnsafeBytes { if let name = $0.baseAddress { (target + at).copyMemory(from: name, byteCount: $0.count) } }
                at += name.count
                target.storeBytes(of: UInt32(truncatingIfNeeded: ranges.count).littleEndian, toByteOffset: at, as: UInt32.self)
                at += countSize
                var id = firstID
                for range in ranges {
                    target.storeBytes(of: id.littleEndian, toByteOffset: at, as: UInt64.self)
                    target.storeBytes(of: UInt32(truncatingIfNeeded: range.count).littleEndian, toByteOffset: at + 8, as: UInt32.self)
                    at += itemOverhead
                    if range.count > 0 { (target + at).copyMemory(from: source.baseAddress! + range.lowerBound - bytes.startIndex, byteCount: range.count) }
                    at += range.count
                    id &+= 1
                }
            }
            offset += Frame.headerSize + length
        }
    }

    /// Splits a chunk frame's payload into the jobs' type name and the items.
    ///
    /// - Throws: ``ChannelError/corruptFrame(_:)`` when a count or a length does not match
    ///   the bytes there are (nothing is allocated from a count before it is checked).
    package static func split(_ payload: [UInt8]) throws(ChannelError) -> (name: String, items: [(id: UInt64, job: ArraySlice<UInt8>)]) {
        var cursor = WireCursor(payload)
        guard let nameLength = cursor.read(UInt16.self), let name = cursor.take(Int(nameLength)),
              let count = cursor.read(UInt32.self) else {
            throw .corruptFrame("job chunk of \(payload.count) bytes ends inside its header")
        }
        guard Int(count) <= cursor.remaining / itemOverhead else {
            throw .corruptFrame("job chunk announces \(count) items in \(cursor.remaining) bytes")
        }
        var items: [(id: UInt64, job: ArraySlice<UInt8>)] = []
        items.reserveCapacity(Int(count))
        for index in 0..<Int(count) {
            guard let id = cursor.read(UInt64.self), let length = cursor.read(UInt32.self),
                  let job = cursor.take(Int(length)) else {
                throw .corruptFrame("job chunk's item \(index) of \(count) runs past its end")
            }
            items.append((id, job))
        }
        guard cursor.remaining == 0 else { throw .corruptFrame("job chunk has \(cursor.remaining) bytes after its last item") }
        return (String(decoding: name, as: UTF8.self), items)
    }
}
