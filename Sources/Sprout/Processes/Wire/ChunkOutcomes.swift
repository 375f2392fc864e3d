/// The outcomes of consecutive jobs in one frame (``FrameKind/chunkOutcomes``), oldest
/// first; the frame's id is the first job's. Payload:
/// `u32 count | count × (u8 tag | u32 length | bytes)`, tag 0 for an encoded output and 1
/// for an encoded ``WireFailure``. A worker builds it in its ledger's outbox one outcome at
/// a time (``WorkerLedger/commitOutcome(kind:id:payload:)``), so a crash loses no outcome
/// already committed.
package enum ChunkOutcomes {
    /// Bytes of the count.
    static let countSize = 4
    /// Bytes of each outcome's tag and length.
    static let itemOverhead = 5
    /// A chunk frame's header and count: what an outcome goes after.
    static let prefixSize = Frame.headerSize + countSize

    /// Writes one outcome's record (tag, length, bytes) at `target`, which has room for
    /// ``itemOverhead`` plus `payload.count` bytes.
    static func writeItem(kind: FrameKind, payload: UnsafeRawBufferPointer, to target: UnsafeMutableRawPointer) {
        target.storeBytes(of: kind == .result ? 0 : 1, as: UInt8.self)
        target.storeBytes(of: UInt32(truncatingIfNeeded: payload.count).littleEndian, toByteOffset: 1, as: UInt32.self)
        if let source = payload.baseAddress { (target + itemOverhead).copyMemory(from: source, byteCount: payload.count) }
    }

    /// The outcomes a payload holds: ``FrameKind/result`` or ``FrameKind/failure`` with the
    /// encoded bytes.
    ///
    /// - Throws: ``ChannelError/corruptFrame(_:)`` as ``Records/init(_:)`` does.
    package static func split(_ payload: [UInt8]) throws(ChannelError) -> [(kind: FrameKind, bytes: ArraySlice<UInt8>)] {
        var records = try Records(payload)
        return (0..<records.count).map { _ in
            let record = records.next()
            return (record.kind, payload[record.bytes])
        }
    }

    /// A payload's outcomes, checked whole when it is made and then read front to back
    /// without copying: the parent reads a chunk's answers in one pass, and a map takes
    /// plain outputs straight from the bytes (``read(into:count:_:)``).
    package struct Records {
        /// The payload the records lie in.
        package let payload: [UInt8]
        /// How many outcomes it holds.
        package let count: Int
        /// The next record's offset in ``payload``.
        private var offset = ChunkOutcomes.countSize

        /// Checks every record of `payload` (nothing is delivered from a frame that lies
        /// anywhere).
        ///
        /// - Throws: ``ChannelError/corruptFrame(_:)`` for a count or a length that does not
        ///   match the bytes there are, or an unknown tag.
        package init(_ payload: [UInt8]) throws(ChannelError) {
            var cursor = WireCursor(payload)
            guard let count = cursor.read(UInt32.self) else { throw .corruptFrame("chunk outcomes of \(payload.count) bytes have no count") }
            guard count > 0, Int(count) <= cursor.remaining / itemOverhead else {
                throw .corruptFrame("chunk outcomes announce \(count) outcomes in \(cursor.remaining) bytes")
            }
            for index in 0..<Int(count) {
                guard let tag = cursor.read(UInt8.self), let length = cursor.read(UInt32.self), cursor.take(Int(length)) != nil else {
                    throw .corruptFrame("chunk outcome \(index) of \(count) runs past its end")
                }
                guard tag <= 1 else { throw .corruptFrame("chunk outcome \(index) has unknown tag \(tag)") }
            }
            guard cursor.remaining == 0 else { throw .corruptFrame("chunk outcomes have \(cursor.remaining) bytes after the last") }
            self.payload = payload
            self.count = Int(count)
        }

        /// The next outcome: its kind and where its bytes lie in ``payload``. There is one
        /// (the caller reads at most ``count``).
        package mutating func next() -> (kind: FrameKind, bytes: Range<Int>) {
            let (tag, length) = header()
            let start = offset + itemOverhead
            offset = start + length
            return (tag == 0 ? .result : .failure, start..<offset)
        }

        /// Skips `count` outcomes.
        mutating func skip(_ count: Int) {
            for _ in 0..<count { _ = next() }
        }

        /// Reads the results from here on, up to `count`, that `parse` reads as a `T` into
        /// `target` (initializing that memory), stopping before the first outcome that is a
        /// failure or that `parse` refuses; returns how many it read.
        mutating func read<T>(into target: UnsafeMutablePointer<T>, count: Int, _ parse: (UnsafeRawBufferPointer) -> T?) -> Int {
            payload.withUnsafeBytes { bytes in
                var read = 0
                var at = offset
                // The bound only guards a caller asking for more outcomes than there are.
                while read < count && at + itemOverhead <= bytes.count {
                    let length = Int(UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: at + 1, as: UInt32.self)))
                    guard bytes[at] == 0,
                          let value = parse(UnsafeRawBufferPointer(start: bytes.baseAddress! + at + itemOverhead, count: length))
                    else { break }
                    (target + read).initialize(to: value)
                    at += itemOverhead + length
                    read += 1
                }
                offset = at
                return read
            }
        }

        /// The tag and length of the record at ``offset``, checked by ``init(_:)``.
        private func header() -> (tag: UInt8, length: Int) {
            payload.withUnsafeBytes { bytes in
                (bytes[offset], Int(UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: offset + 1, as: UInt32.self))))
            }
        }
    }
}
