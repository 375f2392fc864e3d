import Testing
import Sprout

@Suite("FrameReader")
struct FrameReaderTests {
    private func header(length: Int, kind: UInt8 = 3, id: UInt64 = 1) -> [UInt8] {
        (0..<4).map { UInt8(truncatingIfNeeded: length >> (8 * $0)) } + [kind]
            + (0..<8).map { UInt8(truncatingIfNeeded: id >> UInt64(8 * $0)) }
    }

    private func append(_ bytes: [UInt8], to reader: inout FrameReader) {
        bytes.withUnsafeBytes { reader.append($0) }
    }

    /// A header announcing (almost) 1 GiB with 10 bytes behind it holds 10 bytes' worth of
    /// memory, not the announced length; the channel's end then names the truncation.
    @Test func memoryGrowsWithTheBytesReceivedNotTheAnnouncedLength() throws {
        var reader = FrameReader()
        append(header(length: Frame.maxPayload) + [UInt8](repeating: 7, count: 10), to: &reader)
        #expect(try reader.next() == nil)
        // A header alone would be gathered as a large frame; still nothing near 1 GiB.
        append([UInt8](repeating: 7, count: 100_000), to: &reader)
        #expect(try reader.next() == nil)
        #expect(reader.reservedBytes < 1 << 20, "\(reader.reservedBytes) bytes reserved for 100,010 received")
        #expect(throws: ChannelError.truncatedFrame(have: 13 + 100_010, need: 13 + Frame.maxPayload)) {
            try reader.checkComplete()
        }
    }

    /// A large frame delivered in uneven pieces comes out whole and intact, once, with
    /// the small frame behind it.
    @Test func aLargeFrameInPiecesArrivesIntact() throws {
        let payload = (0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        let stream = header(length: payload.count, id: 9) + payload + header(length: 1, id: 10) + [42]
        var reader = FrameReader()
        var frames: [Frame] = []
        var offset = 0
        var piece = 1
        while offset < stream.count {
            let end = min(stream.count, offset + piece)
            append(Array(stream[offset..<end]), to: &reader)
            while let frame = try reader.next() { frames.append(frame) }
            offset = end
            piece = piece * 3 + 5
        }
        try reader.checkComplete()
        #expect(frames.map(\.id) == [9, 10])
        #expect(frames.first?.payload == payload)
        #expect(frames.last?.payload == [42])
        #expect(reader.reservedBytes < 1 << 20)
    }
}
