import Glibc

/// A barrier for a fixed number of parties in any processes — multiprocessing's
/// `Barrier`: each ``wait(timeout:)-(Double?)`` blocks until `parties` of them wait, then all go on
/// together and the barrier is ready for the next round. It breaks — every waiter, now and
/// later, throws ``ProcessSyncError/brokenBarrier`` until ``reset()`` — when a wait times
/// out, on ``abort()``, or when a process dies waiting at it, so the others never wait for
/// a party that cannot come.
///
/// Send it to workers inside a job (it is `Codable`; the shared memory's name travels).
/// Waiting switches greenlets on the hub and sleeps the thread in a worker's job.
public final class ProcessBarrier: Codable, Sendable {
    private let words: SharedWords
    private enum Word { static let parties = 0, waiting = 1, round = 2, broken = 3, resets = 4, firstArrival = 5 }

    /// A barrier for `parties` waiters.
    ///
    /// - Throws: ``ProcessSyncError/invalidCount(_:)`` unless `parties` is 1...4096;
    ///   ``SharedMemoryError`` if the shared memory cannot be made.
    public init(parties: Int) throws {
        guard (1...4096).contains(parties) else { throw ProcessSyncError.invalidCount(parties) }
        words = try SharedWords(count: Word.firstArrival + parties)
        words.withLock { $0[Word.parties] = Int64(parties) }
    }

    /// How many waits it takes to pass.
    public var parties: Int { words.withLock { Int($0[Word.parties]) } }

    /// How many are waiting now — `n_waiting`.
    public var waitingCount: Int { words.withLock { Int($0[Word.waiting]) } }

    /// True while the barrier is broken.
    public var isBroken: Bool { words.withLock { $0[Word.broken] != 0 } }

    /// Waits until `parties` waits have arrived; returns this wait's arrival index (0 for
    /// the first, `parties - 1` for the one that let everybody go).
    ///
    /// - Throws: ``ProcessSyncError/brokenBarrier`` if the barrier is or becomes broken —
    ///   also when `timeout` seconds pass first (the barrier is broken then, as in
    ///   Python); `CancellationError` if the greenlet is killed (the barrier breaks too:
    ///   the others would wait for it forever).
    @discardableResult
    public func wait(timeout: Double? = nil) async throws -> Int {
        let me = Int64(getpid())
        let (index, round, resets) = try words.withLock { word throws -> (Int, Int64, Int64) in
            guard word[Word.broken] == 0 else { throw ProcessSyncError.brokenBarrier }
            let index = Int(word[Word.waiting])
            // A party that died waiting can never leave: this round could only pass without it.
            if (0..<index).contains(where: { processIsGone(word[Word.firstArrival + $0]) }) {
                word[Word.broken] = 1
                throw ProcessSyncError.brokenBarrier
            }
            word[Word.firstArrival + index] = me
            word[Word.waiting] += 1
            let round = word[Word.round]
            if word[Word.waiting] == word[Word.parties] {
                word[Word.waiting] = 0
                word[Word.round] += 1
                for slot in 0..<Int(word[Word.parties]) { word[Word.firstArrival + slot] = 0 }
            }
            return (index, round, word[Word.resets])
        }
        let passed: Bool?
        do {
            passed = try await pollUntil(timeout: timeout) { () throws -> Bool? in
                try words.withLock { word throws -> Bool? in
                    if word[Word.round] != round { return true }
                    if word[Word.broken] != 0 || word[Word.resets] != resets { throw ProcessSyncError.brokenBarrier }
                    let waiting = Int(word[Word.waiting])
                    if (0..<waiting).contains(where: { processIsGone(word[Word.firstArrival + $0]) }) {
                        word[Word.broken] = 1
                        throw ProcessSyncError.brokenBarrier
                    }
                    return nil
                }
            }
        } catch is CancellationError {
            abort()
            throw CancellationError()
        }
        if passed == nil {
            abort()
            throw ProcessSyncError.brokenBarrier
        }
        return index
    }

    /// Breaks the barrier: every waiter, now and until ``reset()``, throws
    /// ``ProcessSyncError/brokenBarrier``.
    public func abort() {
        words.withLock { $0[Word.broken] = 1 }
    }

    /// Mends a broken barrier for a new round; waiters still waiting throw
    /// ``ProcessSyncError/brokenBarrier``, as in Python.
    public func reset() {
        words.withLock { word in
            word[Word.broken] = 0
            word[Word.waiting] = 0
            word[Word.resets] += 1
            for slot in 0..<Int(word[Word.parties]) { word[Word.firstArrival + slot] = 0 }
        }
    }

    /// Encodes the shared memory's name.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(words.name)
    }

    /// Maps the barrier another process made.
    ///
    /// - Throws: ``SharedMemoryError`` if it no longer exists; ``ProcessSyncError/invalidCount(_:)``
    ///   if what it maps is too small for a barrier.
    public init(from decoder: any Decoder) throws {
        words = try SharedWords(opening: decoder.singleValueContainer().decode(String.self))
        let parties = words.withLock { Int($0[Word.parties]) }
        guard parties >= 1, words.count >= Word.firstArrival + parties else { throw ProcessSyncError.invalidCount(parties) }
    }
}
