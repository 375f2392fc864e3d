import Testing
@testable import Sprout

/// The chunk frames of a batched map: ``JobChunk`` and ``ChunkOutcomes``.
@Suite("Chunk frames")
struct ChunkFramesTests {
    @Test func aJobChunkSplitsIntoItsItems() throws {
        var buffer: [UInt8] = []
        // Bytes before the first job's and between the jobs' are not sent.
        let bytes: [UInt8] = [0xEE, 1, 2, 3, 0xEE, 4]
        JobChunk.append(name: Array("Jobs.Square".utf8), firstID: 1 << 40, bytes: bytes[...],
                        ranges: [1..<4, 4..<4, 5..<6][...], to: &buffer)
        var reader = FrameReader()
        buffer.withUnsafeBytes { reader.append($0) }
        let frame = try #require(try reader.next())
        #expect(frame.kind == .jobChunk && frame.id == 1 << 40)
        let (name, split) = try JobChunk.split(frame)
        #expect(name == "Jobs.Square")
        #expect(split.map(\.id) == [1 << 40, 1 << 40 + 1, 1 << 40 + 2])
        #expect(split.map { Array($0.job) } == [[1, 2, 3], [], [4]])
        // Ids are not written per item: the frame's id, then each item's length and bytes.
        #expect(frame.payload == [11, 0] + Array("Jobs.Square".utf8) + [3, 0, 0, 0]
            + [3, 0, 0, 0, 1, 2, 3] + [0, 0, 0, 0] + [1, 0, 0, 0, 4])
    }

    @Test func aJobChunkWhoseCountsOrLengthsLieIsCorrupt() {
        let name: [UInt8] = [1, 0, 0x41]
        let item: [UInt8] = [2, 0, 0, 0] + [0x31, 0x32]
        let cases: [([UInt8], String)] = [
            (name + [3, 0, 0, 0] + item, "announces 3 items"),
            (name + [0xFF, 0xFF, 0xFF, 0xFF] + item, "announces 4294967295 items"),
            (name + [0, 0, 0, 0], "announces 0 items"),
            (name + [1, 0, 0, 0] + item.dropLast(), "runs past its end"),
            (name + [2, 0, 0, 0] + item + [0xFF, 0xFF, 0xFF, 0xFF], "item 1 of 2 runs past its end"),
            (name + [1, 0, 0, 0] + item + [0], "after its last item"),
            ([9, 0, 0x41], "ends inside its header"),
        ]
        for (payload, detail) in cases {
            #expect {
                _ = try JobChunk.split(Frame(kind: .jobChunk, id: 1, payload: payload))
            } throws: { error in
                guard case .corruptFrame(let text)? = error as? ChannelError else { return false }
                return text.contains(detail)
            }
        }
    }

    @Test func chunkOutcomesSplitIntoResultsAndFailures() throws {
        let payload: [UInt8] = [2, 0, 0, 0] + [0, 1, 0, 0, 0, 0x34] + [1, 2, 0, 0, 0, 0x7B, 0x7D]
        let outcomes = try ChunkOutcomes.split(payload)
        #expect(outcomes.map(\.kind) == [.result, .failure])
        #expect(outcomes.map { Array($0.bytes) } == [[0x34], [0x7B, 0x7D]])
    }

    /// A map of integer outputs takes them straight from the records, up to the first
    /// outcome that is a failure or not a plain integer, which is left for the decoders.
    @Test func integersAreReadFromTheRecordsUpToTheFirstOtherOutcome() throws {
        func record(_ tag: UInt8, _ text: String) -> [UInt8] {
            [tag] + withUnsafeBytes(of: UInt32(text.utf8.count).littleEndian, Array.init) + Array(text.utf8)
        }
        let payload: [UInt8] = [6, 0, 0, 0] + record(0, "12") + record(0, "-3") + record(1, "{}")
            + record(0, "0") + record(0, "1.5") + record(0, "4")
        var records = try ChunkOutcomes.Records(payload)
        var read = [Int](repeating: 0, count: 6)
        #expect(read.withUnsafeMutableBufferPointer { records.read(into: $0.baseAddress!, count: 6, StreamingJSONDecoder.integer) } == 2)
        #expect(read[..<2] == [12, -3])
        #expect(records.next().kind == .failure)
        #expect(read.withUnsafeMutableBufferPointer { records.read(into: $0.baseAddress!, count: 3, StreamingJSONDecoder.integer) } == 1)
        #expect(read[0] == 0)
        let fraction = records.next()
        #expect(fraction.kind == .result && Array(payload[fraction.bytes]) == Array("1.5".utf8))
        // No further than asked, though more integers follow.
        #expect(read.withUnsafeMutableBufferPointer { records.read(into: $0.baseAddress!, count: 0, StreamingJSONDecoder.integer) } == 0)
        #expect(read.withUnsafeMutableBufferPointer { records.read(into: $0.baseAddress!, count: 1, StreamingJSONDecoder.integer) } == 1)
        #expect(read[0] == 4)
    }

    @Test func chunkOutcomesWhoseCountsLengthsOrTagsLieAreCorrupt() {
        let outcome: [UInt8] = [0, 1, 0, 0, 0, 0x34]
        let cases: [([UInt8], String)] = [
            ([2, 0, 0, 0] + outcome, "announce 2 outcomes"),
            ([0, 0, 0, 0], "announce 0 outcomes"),
            ([1, 0, 0, 0] + [0, 9, 0, 0, 0, 0x34], "runs past its end"),
            ([1, 0, 0, 0] + [2, 1, 0, 0, 0, 0x34], "unknown tag 2"),
            ([1, 0, 0, 0] + outcome + [0], "after the last"),
            ([1, 0], "have no count"),
        ]
        for (payload, detail) in cases {
            #expect {
                _ = try ChunkOutcomes.split(payload)
            } throws: { error in
                guard case .corruptFrame(let text)? = error as? ChannelError else { return false }
                return text.contains(detail)
            }
        }
    }
}
