import Testing
@testable import Sprout

/// What a dead worker's ledger tells its parent: the answers it committed, including the
/// outcomes of a chunk it had not finished.
@Suite("WorkerLedger")
struct WorkerLedgerTests {
    /// A zeroed ledger in private memory, as a worker's starts.
    private func withLedger(_ body: (WorkerLedger) throws -> Void) rethrows {
        let base = UnsafeMutableRawPointer.allocate(byteCount: WorkerLedger.size, alignment: 16)
        base.initializeMemory(as: UInt8.self, repeating: 0, count: WorkerLedger.size)
        defer { base.deallocate() }
        try body(WorkerLedger(base: base))
    }

    @Test func theOutcomesOfAnUnfinishedChunkAreRecovered() throws {
        try withLedger { ledger in
            #expect(ledger.commit(kind: .result, id: 3, payload: [0x39]))
            #expect(ledger.commitOutcome(kind: .result, id: 4, payload: [0x31, 0x36]))
            #expect(ledger.commitOutcome(kind: .failure, id: 5, payload: [0x7B, 0x7D]))
            // A kill while the next outcome was being written: bytes past the published
            // extent, and a header that already counts them, are not trusted.
            let scribble = ledger.outbox + ledger.committed + ledger.partial
            scribble.storeBytes(of: 0, as: UInt8.self)
            scribble.storeBytes(of: UInt32(1000), toByteOffset: 1, as: UInt32.self)
            (ledger.outbox + ledger.committed).storeBytes(of: UInt32(3), toByteOffset: Frame.headerSize, as: UInt32.self)
            let frames = ledger.committedFrames()
            #expect(frames.map(\.kind) == [.result, .chunkOutcomes])
            #expect(frames.map(\.id) == [3, 4])
            let outcomes = try ChunkOutcomes.split(frames[1].payload)
            #expect(outcomes.map(\.kind) == [.result, .failure])
            #expect(outcomes.map { Array($0.bytes) } == [[0x31, 0x36], [0x7B, 0x7D]])
        }
    }

    @Test func aClosedChunkIsAWholeFrameAndTheNextStartsAfterIt() throws {
        try withLedger { ledger in
            #expect(ledger.commitOutcome(kind: .result, id: 10, payload: [0x30]))
            #expect(ledger.commitOutcome(kind: .result, id: 11, payload: [0x31]))
            ledger.closeChunk()
            #expect(ledger.partial == 0)
            #expect(ledger.commitOutcome(kind: .result, id: 12, payload: [0x32]))
            var reader = FrameReader()
            reader.append(UnsafeRawBufferPointer(start: ledger.outbox, count: ledger.committed))
            let closed = try #require(try reader.next())
            #expect(closed.kind == .chunkOutcomes && closed.id == 10)
            #expect(try ChunkOutcomes.split(closed.payload).map { Array($0.bytes) } == [[0x30], [0x31]])
            #expect(try reader.next() == nil)
            #expect(ledger.committedFrames().map(\.id) == [10, 12])
        }
    }

    @Test func anOutcomeThatDoesNotFitIsRefusedWhole() {
        withLedger { ledger in
            let big = [UInt8](repeating: 1, count: WorkerLedger.outboxCapacity / 2)
            #expect(ledger.commitOutcome(kind: .result, id: 1, payload: big))
            let before = (ledger.committed, ledger.partial)
            #expect(!ledger.commitOutcome(kind: .result, id: 2, payload: big))
            #expect(ledger.committed == before.0 && ledger.partial == before.1)
            #expect(ledger.committedFrames().count == 1)
        }
    }
}
