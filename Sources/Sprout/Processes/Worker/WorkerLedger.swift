import FoundationEssentials
import Synchronization

/// The shared memory a pool worker and its parent both map, which lets the parent know
/// after a crash exactly what the worker did:
///
/// - `u64 started` — how many jobs the worker has started; it counts each before running
///   it, and jobs run in the order sent, so the parent tells the jobs that started from
///   those that never did.
/// - `u64 held` — what the outbox holds, in one word so a kill never sees half an update:
///   the low 32 bits count the bytes of whole answer frames; the high 32 bits the bytes of
///   the ``FrameKind/chunkOutcomes`` frame being built after them (its header, count and
///   whole outcomes so far; 0 when none is open). A map's chunk of jobs is answered by one
///   such frame, one outcome committed at a time, so a kill mid-chunk loses none that ended.
/// - `cancelSlots × u64` — ids of jobs sent and then cancelled: the worker skips a job whose
///   id it finds in its slot (`id % cancelSlots`) instead of running it.
/// - the outbox — answers the worker holds back to send many in one write. A job's answer
///   is committed there before the worker runs the next job, so a worker killed with
///   answers held back loses none: the parent reads them here and delivers those whose job
///   is still unanswered (frames already sent are skipped by their id).
struct WorkerLedger {
    static let cancelSlots = 1024
    /// Answers held back stay under this many bytes; a larger one is sent at once.
    static let outboxCapacity = 1 << 16
    static let outboxOffset = 16 + cancelSlots * 8
    static let size = outboxOffset + outboxCapacity

    let base: UnsafeMutableRawPointer

    /// How many jobs the worker has started.
    var started: UInt64 { base.load(as: UInt64.self) }

    /// Counts a job as started, then tells whether it was cancelled before it started.
    /// The fence pairs with ``cancel(_:)``'s: either the worker sees the cancellation or
    /// the parent sees the job started (and kills the worker to stop it).
    func start(_ id: UInt64) -> Bool {
        base.storeBytes(of: started &+ 1, as: UInt64.self)
        atomicMemoryFence(ordering: .sequentiallyConsistent)
        return slot(id).load(as: UInt64.self) == id
    }

    /// Asks the worker to skip job `id` if it has not started it. Returns how many jobs
    /// the worker had started once the request was visible to it.
    func cancel(_ id: UInt64) -> UInt64 {
        slot(id).storeBytes(of: id, as: UInt64.self)
        atomicMemoryFence(ordering: .sequentiallyConsistent)
        return started
    }

    private func slot(_ id: UInt64) -> UnsafeMutableRawPointer {
        base + 16 + Int(id % UInt64(Self.cancelSlots)) * 8
    }

    /// Bytes of whole frames in the outbox, bounded by its capacity (the parent does not
    /// trust what a dead worker left).
    var committed: Int { min(Int(truncatingIfNeeded: held & 0xFFFF_FFFF), Self.outboxCapacity) }

    /// Bytes of the outcomes frame being built after the whole frames (0 when none is
    /// open), bounded by the room left.
    var partial: Int { min(Int(truncatingIfNeeded: held >> 32), Self.outboxCapacity - committed) }

    /// Whether any answer is held back, in whole frames or in the open outcomes frame.
    var hasHeldBack: Bool { held != 0 }

    private var held: UInt64 { base.load(fromByteOffset: 8, as: UInt64.self) }

    /// Publishes the outbox's extent. Everything it counts is in place before it (the fence).
    private func publish(committed: Int, partial: Int) {
        atomicMemoryFence(ordering: .releasing)
        base.storeBytes(of: UInt64(committed) | UInt64(partial) << 32, toByteOffset: 8, as: UInt64.self)
    }

    var outbox: UnsafeMutableRawPointer { base + Self.outboxOffset }

    /// Appends a whole frame to the outbox (after closing the open outcomes frame) and then
    /// commits it; returns false, appending nothing, if it does not fit.
    func commit(kind: FrameKind, id: UInt64, payload: some ContiguousBytes) -> Bool {
        closeChunk()
        let used = committed
        return payload.withUnsafeBytes { bytes in
            guard Frame.headerSize + bytes.count <= Self.outboxCapacity - used else { return false }
            let frame = outbox + used
            Frame.writeHeader(kind: kind, id: id, length: bytes.count, to: frame)
            if let source = bytes.baseAddress { (frame + Frame.headerSize).copyMemory(from: source, byteCount: bytes.count) }
            publish(committed: used + Frame.headerSize + bytes.count, partial: 0)
            return true
        }
    }

    /// Adds job `id`'s outcome to the open outcomes frame, opening one for it if none is;
    /// returns false, appending nothing, if it does not fit (the caller flushes and tries
    /// again, or sends it alone).
    func commitOutcome(kind: FrameKind, id: UInt64, payload: some ContiguousBytes) -> Bool {
        payload.withUnsafeBytes { commitOutcome(kind: kind, id: id, bytes: $0) }
    }

    private func commitOutcome(kind: FrameKind, id: UInt64, bytes: UnsafeRawBufferPointer) -> Bool {
        let used = committed
        let open = partial
        let opening = open == 0 ? ChunkOutcomes.prefixSize : 0
        let record = ChunkOutcomes.itemOverhead + bytes.count
        guard record + opening <= Self.outboxCapacity - used - open else { return false }
        let frame = outbox + used
        if open == 0 {
            Frame.writeHeader(kind: .chunkOutcomes, id: id, length: ChunkOutcomes.countSize, to: frame)
            frame.storeBytes(of: UInt32(0), toByteOffset: Frame.headerSize, as: UInt32.self)
        }
        let size = open + opening
        ChunkOutcomes.writeItem(kind: kind, payload: bytes, to: frame + size)
        // The header's length and count are kept right so closing the frame costs nothing;
        // after a kill the parent goes by the published extent instead.
        let count = UInt32(littleEndian: frame.loadUnaligned(fromByteOffset: Frame.headerSize, as: UInt32.self)) + 1
        frame.storeBytes(of: UInt32(size + record - Frame.headerSize).littleEndian, as: UInt32.self)
        frame.storeBytes(of: count.littleEndian, toByteOffset: Frame.headerSize, as: UInt32.self)
        publish(committed: used, partial: size + record)
        return true
    }

    /// Makes the open outcomes frame a whole one, so it is sent with the others.
    func closeChunk() {
        let open = partial
        guard open > 0 else { return }
        publish(committed: committed + open, partial: 0)
    }

    /// Empties the outbox once its frames have been written to the channel.
    func clearOutbox() {
        base.storeBytes(of: UInt64(0), toByteOffset: 8, as: UInt64.self)
    }

    /// The whole frames the outbox holds, oldest first, then the open outcomes frame cut to
    /// the outcomes it had committed; a dead worker's leftovers may be nonsense, so anything
    /// that does not parse ends the list.
    func committedFrames() -> [Frame] {
        var reader = FrameReader()
        reader.append(UnsafeRawBufferPointer(start: outbox, count: committed))
        var frames: [Frame] = []
        while let frame = try? reader.next() { frames.append(frame) }
        if let open = openOutcomes() { frames.append(open) }
        return frames
    }

    /// The open outcomes frame rebuilt from its published extent: its header's id and the
    /// outcome records that lie wholly inside the extent.
    private func openOutcomes() -> Frame? {
        let size = partial
        guard size > ChunkOutcomes.prefixSize else { return nil }
        let frame = UnsafeRawBufferPointer(start: outbox + committed, count: size)
        let id = UInt64(littleEndian: frame.loadUnaligned(fromByteOffset: 5, as: UInt64.self))
        var end = ChunkOutcomes.prefixSize
        var count: UInt32 = 0
        while end + ChunkOutcomes.itemOverhead <= size {
            let length = Int(UInt32(littleEndian: frame.loadUnaligned(fromByteOffset: end + 1, as: UInt32.self)))
            guard length <= size - end - ChunkOutcomes.itemOverhead else { break }
            end += ChunkOutcomes.itemOverhead + length
            count += 1
        }
        guard count > 0 else { return nil }
        var payload: [UInt8] = []
        payload.appendLittleEndian(count)
        payload.append(contentsOf: frame[ChunkOutcomes.prefixSize..<end])
        return Frame(kind: .chunkOutcomes, id: id, payload: payload)
    }
}
