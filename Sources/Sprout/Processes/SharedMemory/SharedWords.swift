import Glibc

/// A few 64-bit words in shared memory behind a ``ProcessLock``: the state of the
/// process-shared ``ProcessRLock``, ``ProcessSemaphore``, ``ProcessEvent`` and
/// ``ProcessBarrier``. Every change is made holding the lock, for a few instructions, so
/// the lock is taken with a blocking `lock()` even on the hub; waiting for the state to
/// change is done outside it, by polling (a lock in shared memory cannot wake a waiter in
/// another process).
final class SharedWords: @unchecked Sendable {
    private let region: SharedRegion
    private let lock: ProcessLock
    private let words: UnsafeMutablePointer<Int64>
    /// How many words there are.
    let count: Int

    private static var dataOffset: Int { 64 + ProcessLock.size }

    /// `count` zeroed words in new shared memory.
    init(count: Int) throws(SharedMemoryError) {
        region = try SharedRegion(size: Self.dataOffset + count * 8)
        region.base.storeBytes(of: UInt64(count), as: UInt64.self)
        self.count = count
        lock = ProcessLock(region: region, offset: 64, initialize: true)
        words = (region.base + Self.dataOffset).bindMemory(to: Int64.self, capacity: count)
    }

    /// The words another process made, named `name`; their count is checked against the
    /// region's size, so a bad name is an error, not a crash.
    init(opening name: String) throws(SharedMemoryError) {
        region = try SharedRegion(opening: name, atLeast: Self.dataOffset + 8)
        let stored = region.base.load(as: UInt64.self)
        let room = UInt64((region.size - Self.dataOffset) / 8)
        guard stored <= room else {
            throw SharedMemoryError(operation: "map \(name)", code: EINVAL,
                                    detail: "it claims \(stored) words; the region has room for \(room)")
        }
        count = Int(stored)
        lock = ProcessLock(region: region, offset: 64, initialize: false)
        words = (region.base + Self.dataOffset).bindMemory(to: Int64.self, capacity: count)
    }

    /// The shared memory's name, what travels to another process.
    var name: String { region.name }

    /// Runs `body` on the words holding the lock. A holder that died inside such a short
    /// step left at most one word half-updated; the types built on this repair what they
    /// can see (dead owners, dead holders), so the flag is not passed on.
    func withLock<T>(_ body: (UnsafeMutablePointer<Int64>) throws -> T) rethrows -> T {
        try lock.withLock { (_: Bool) in try body(words) }
    }
}

/// True if no process `pid` exists any more (a pid of 0 is nobody).
func processIsGone(_ pid: Int64) -> Bool {
    pid > 0 && kill(pid_t(pid), 0) == -1 && errno == ESRCH
}

/// Polls `ready` until it returns a value, backing off from 50 µs to 5 ms between tries:
/// on the hub the greenlet sleeps while others run; elsewhere (a worker's job) the thread
/// sleeps. Returns `nil` once `timeout` seconds have passed.
///
/// - Throws: `CancellationError` if the waiting greenlet is killed.
func pollUntil<T>(timeout: Double?, _ ready: () throws -> T?) async throws -> T? {
    let deadline = Deadline(timeout: timeout)
    var pause = 50e-6
    while true {
        if let value = try ready() { return value }
        if deadline?.hasPassed == true { return nil }
        if Hub.isCurrent {
            try await sleep(pause)
        } else {
            try Task.checkCancellation()
            usleep(UInt32(pause * 1e6))
        }
        pause = min(pause * 2, 5e-3)
    }
}
