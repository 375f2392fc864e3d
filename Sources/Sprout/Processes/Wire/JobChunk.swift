/// Several jobs of one type in one frame (``FrameKind/jobChunk``), so a map over tiny jobs
/// costs one frame and one write per chunk rather than per job. Payload:
/// `u16 name length | name | u32 count | count × (u32 length | job bytes)`, little-endian.
/// Item `i`'s id is the frame's id plus `i` (a chunk's jobs have consecutive ids), so no id
/// is written per item. Each item keeps its own id: the worker counts, runs and answers
/// items one by one, so a crash or a cancellation still concerns single jobs.
package enum JobChunk {
    /// Bytes of the count.
    static let countSize = 4
    /// Bytes of each item's length, the only thing written per item besides its job.
    static let itemOverhead = 4

    /// Appends a whole chunk frame to `buffer` for the jobs whose encoded bytes lie at
    /// `ranges` (at least one; `bytes`' indices) in `bytes`, with ids `firstID`, `firstID + 1`, … in order;
    /// the frame's id is the first one's. Sizes were checked where the jobs were encoded.
    static func append(name: [UInt8], firstID: UInt64, bytes: ArraySlice<UInt8>, ranges: ArraySlice<Range<Int>>,
                       to buffer: inout [UInt8]) {
        var length = 2 + name.count + countSize
        for range in ranges { length += itemOverhead + range.count }
        // Room for the whole frame, then written in place: a chunk holds thousands of jobs.
        let offset = buffer.count
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
                for range in ranges {
                    target.storeBytes(of: UInt32(truncatingIfNeeded: range.count).littleEndian, toByteOffset: at, as: UInt32.self)
                    at += itemOverhead
                    if range.count > 0 { (target + at).copyMemory(from: source.baseAddress! + range.lowerBound - bytes.startIndex, byteCount: range.count) }
                    at += range.count
                }
            }
        }
    }

    /// Splits a chunk frame into the jobs' type name and its items.
    ///
    /// - Throws: ``ChannelError/corruptFrame(_:)`` when a count or a length does not match
    ///   the bytes there are (nothing is allocated from a count before it is checked).
    package static func split(_ frame: Frame) throws(ChannelError) -> (name: String, items: Items) {
        let payload = frame.payload
        var cursor = WireCursor(payload)
        guard let nameLength = cursor.read(UInt16.self), let name = cursor.take(Int(nameLength)),
              let count = cursor.read(UInt32.self) else {
            throw .corruptFrame("job chunk of \(payload.count) bytes ends inside its header")
        }
        // No chunk has 0 items: its answer would be 0 outcomes, which the parent refuses
        // (``ChunkOutcomes``), so the worker refuses such a chunk first.
        guard count > 0, Int(count) <= cursor.remaining / itemOverhead else {
            throw .corruptFrame("job chunk announces \(count) items in \(cursor.remaining) bytes")
        }
        var starts: [Int] = []
        starts.reserveCapacity(Int(count) + 1)
        let itemsStart = payload.count - cursor.remaining
        // Read in place, not through the cursor, whose every item would be a slice made.
        let problem = payload.withUnsafeBytes { bytes -> String? in
            var at = itemsStart
            for index in 0..<Int(count) {
                guard bytes.count - at >= itemOverhead,
                      case let length = Int(UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: at, as: UInt32.self))),
                      bytes.count - at - itemOverhead >= length else {
                    return "job chunk's item \(index) of \(count) runs past its end"
                }
                at += itemOverhead
                starts.append(at)
                at += length
            }
            return at == bytes.count ? nil : "job chunk has \(bytes.count - at) bytes after its last item"
        }
        if let problem { throw .corruptFrame(problem) }
        starts.append(payload.count + itemOverhead)
        return (String(decoding: name, as: UTF8.self), Items(firstID: frame.id, payload: payload, starts: starts))
    }

    /// A chunk frame's items, checked by ``split(_:)`` and read in place: an item's id and
    /// bytes are made only when it is read.
    package struct Items: RandomAccessCollection, Sendable {
        /// The first item's id (the frame's).
        let firstID: UInt64
        let payload: [UInt8]
        /// Where each item's bytes start in `payload`, then the payload's end plus an item's
        /// overhead: item `i` ends an overhead before item `i + 1` starts.
        let starts: [Int]

        package var startIndex: Int { 0 }
        package var endIndex: Int { starts.count - 1 }

        /// Item `index`'s id and encoded job.
        @inline(__always)
        package subscript(index: Int) -> (id: UInt64, job: ArraySlice<UInt8>) {
            (id(index), payload[starts[index]..<(starts[index + 1] - itemOverhead)])
        }

        /// Item `index`'s id, without making a slice of its bytes (a worker reads an item's
        /// id at its start and at its end).
        @inline(__always)
        package func id(_ index: Int) -> UInt64 {
            firstID &+ UInt64(index)
        }
    }
}
