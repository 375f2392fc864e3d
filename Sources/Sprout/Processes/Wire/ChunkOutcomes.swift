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
    static func writeItem(kind: FrameKind, payload: [UInt8], to target: UnsafeMutableRawPointer) {
        target.storeBytes(of: kind == .result ? 0 : 1, as: UInt8.self)
        target.storeBytes(of: UInt32(truncatingIfNeeded: payload.count).littleEndian, toByteOffset: 1, as: UInt32.self)
        payload.withUnsafeBytes { bytes in
            if let source = bytes.baseAddress { (target + itemOverhead).copyMemory(from: source, byteCount: bytes.count) }
        }
    }

    /// The outcomes a payload holds: ``FrameKind/result`` or ``FrameKind/failure`` with the
    /// encoded bytes.
    ///
    /// - Throws: ``ChannelError/corruptFrame(_:)`` for a count or a length that does not
    ///   match the bytes there are, or an unknown tag.
    package static func split(_ payload: [UInt8]) throws(ChannelError) -> [(kind: FrameKind, bytes: ArraySlice<UInt8>)] {
        var cursor = WireCursor(payload)
        guard let count = cursor.read(UInt32.self) else { throw .corruptFrame("chunk outcomes of \(payload.count) bytes have no count") }
        guard count > 0, Int(count) <= cursor.remaining / itemOverhead else {
            throw .corruptFrame("chunk outcomes announce \(count) outcomes in \(cursor.remaining) bytes")
        }
        var outcomes: [(kind: FrameKind, bytes: ArraySlice<UInt8>)] = []
        outcomes.reserveCapacity(Int(count))
        for index in 0..<Int(count) {
            guard let tag = cursor.read(UInt8.self), let length = cursor.read(UInt32.self),
                  let bytes = cursor.take(Int(length)) else {
                throw .corruptFrame("chunk outcome \(index) of \(count) runs past its end")
            }
            switch tag {
            case 0: outcomes.append((.result, bytes))
            case 1: outcomes.append((.failure, bytes))
            default: throw .corruptFrame("chunk outcome \(index) has unknown tag \(tag)")
            }
        }
        guard cursor.remaining == 0 else { throw .corruptFrame("chunk outcomes have \(cursor.remaining) bytes after the last") }
        return outcomes
    }
}
