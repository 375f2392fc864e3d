import Synchronization

/// The shared memory a pool worker and its parent both map, which lets the parent know
/// after a crash exactly what the worker did:
///
/// - `u64 started` — how many jobs the worker has started; it counts each before running
///   it, and jobs run in the order sent, so the parent tells the jobs that started from
///   those that never did.
/// - `u64 committed` — how many bytes of whole answer frames the outbox holds.
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
    var committed: Int {
        min(max(Int(truncatingIfNeeded: base.load(fromByteOffset: 8, as: UInt64.self)), 0), Self.outboxCapacity)
    }

    var outbox: UnsafeMutableRawPointer { base + Self.outboxOffset }

    /// Appends a whole frame to the outbox and then commits it; returns false, appending
    /// nothing, if it does not fit.
    func commit(kind: FrameKind, id: UInt64, payload: [UInt8]) -> Bool {
        let used = committed
        guard Frame.headerSize + payload.count <= Self.outboxCapacity - used else { return false }
        let frame = outbox + used
        Frame.writeHeader(kind: kind, id: id, length: payload.count, to: frame)
        payload.withUnsafeBytes { bytes in
            if let source = bytes.baseAddress { (frame + Frame.headerSize).copyMemory(from: source, byteCount: bytes.count) }
        }
        // The frame's bytes are in place before the count that makes it visible.
        atomicMemoryFence(ordering: .releasing)
        base.storeBytes(of: UInt64(used + Frame.headerSize + payload.count), toByteOffset: 8, as: UInt64.self)
        return true
    }

    /// Empties the outbox once its frames have been written to the channel.
    func clearOutbox() {
        base.storeBytes(of: UInt64(0), toByteOffset: 8, as: UInt64.self)
    }

    /// The whole frames the outbox holds, oldest first; a dead worker's leftovers may be
    /// nonsense, so anything that does not parse ends the list.
    func committedFrames() -> [Frame] {
        var reader = FrameReader()
        reader.append(UnsafeRawBufferPointer(start: outbox, count: committed))
        var frames: [Frame] = []
        while let frame = try? reader.next() { frames.append(frame) }
        return frames
    }
}
