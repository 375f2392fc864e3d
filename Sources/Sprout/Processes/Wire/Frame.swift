/// One decoded frame: `u32 length | u8 kind | u64 id | payload`, little-endian, where
/// `length` counts the payload bytes only.
package struct Frame: Sendable {
    package static let headerSize = 13
    /// Frames larger than this are treated as corruption rather than allocated; also the
    /// largest payload limit a pool may be given, so a length always fits the header's u32.
    package static let maxPayload = 1 << 30
    /// What a job frame's payload holds besides the name and the job: the name's length
    /// and a descriptor count.
    static let jobOverhead = 3

    package var kind: FrameKind
    package var id: UInt64
    package var payload: [UInt8]

    /// Appends the frame's header for a payload of `length` bytes to `buffer`. Sizes are
    /// checked where payloads are encoded (``encodeJob(_:coder:limit:)``, the worker's
    /// output limit), so `length` is at most ``maxPayload`` here.
    static func appendHeader(kind: FrameKind, id: UInt64, length: Int, to buffer: inout [UInt8]) {
        withUnsafeTemporaryAllocation(byteCount: headerSize, alignment: 8) { header in
            writeHeader(kind: kind, id: id, length: length, to: header.baseAddress!)
            buffer.append(contentsOf: header)
        }
    }

    /// Writes the frame's header for a payload of `length` bytes (at most ``maxPayload``)
    /// at `target`, which has room for ``headerSize`` bytes.
    static func writeHeader(kind: FrameKind, id: UInt64, length: Int, to target: UnsafeMutableRawPointer) {
        precondition(length >= 0 && length <= maxPayload, "Sprout: a frame of \(length) bytes was not checked where it was encoded")
        target.storeBytes(of: UInt32(truncatingIfNeeded: length).littleEndian, as: UInt32.self)
        target.storeBytes(of: kind.rawValue, toByteOffset: 4, as: UInt8.self)
        target.storeBytes(of: id.littleEndian, toByteOffset: 5, as: UInt64.self)
    }

    /// Appends a whole frame to `buffer`.
    static func append(kind: FrameKind, id: UInt64, payload: [UInt8], to buffer: inout [UInt8]) {
        appendHeader(kind: kind, id: id, length: payload.count, to: &buffer)
        buffer.append(contentsOf: payload)
    }

    /// Appends a job frame (`u16 name length | name | job bytes`) to `buffer`; with
    /// descriptors, a ``FrameKind/jobWithDescriptors`` frame announcing how many.
    static func appendJob(kind: FrameKind, id: UInt64, name: [UInt8], job: ArraySlice<UInt8>, descriptors: Int = 0,
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
    package static func splitJob(_ payload: [UInt8]) throws(ChannelError) -> (name: String, job: ArraySlice<UInt8>) {
        guard payload.count >= 2 else { throw .corruptFrame("job frame of \(payload.count) bytes has no name") }
        let length = Int(payload[0]) | Int(payload[1]) << 8
        guard payload.count >= 2 + length else { throw .corruptFrame("job frame's name runs past its end") }
        let name = String(decoding: payload[2..<(2 + length)], as: UTF8.self)
        return (name, payload[(2 + length)...])
    }
}
