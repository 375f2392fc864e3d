import Glibc

/// A lock shared by processes — multiprocessing's `Lock` — in shared memory: a
/// process-shared, *robust* pthread mutex, so a holder killed by SIGKILL does not deadlock
/// the others: the next holder takes it over and is told, once, that the data it guarded
/// may be half-updated.
///
/// Send it to workers inside a job (it is `Codable`; the shared memory's name travels).
/// ``lock()`` blocks the calling thread: fine in a worker's job. A greenlet uses
/// ``acquire()`` instead, which waits without stopping the hub.
public final class ProcessLock: Codable, @unchecked Sendable {
    /// The mutex, then a word that keeps "the previous holder died" for the next holder
    /// that can be told, when a taker that cannot tell (a ``SharedArray`` subscript) took
    /// the lock over.
    static let size = (MemoryLayout<pthread_mutex_t>.size + 8 + 63) / 64 * 64
    private static let flagOffset = (MemoryLayout<pthread_mutex_t>.size + 7) / 8 * 8

    private let region: SharedRegion
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let untold: UnsafeMutablePointer<UInt64>

    /// A new unlocked lock.
    ///
    /// - Throws: ``SharedMemoryError`` if the shared memory cannot be made.
    public convenience init() throws {
        let region = try SharedRegion(size: Self.size)
        self.init(region: region, offset: 0, initialize: true)
    }

    /// The lock at `offset` in `region`, set up there first when `initialize` is true.
    /// The region must hold `offset + size` bytes.
    init(region: SharedRegion, offset: Int, initialize: Bool) {
        precondition(region.size >= offset + Self.size, "Sprout: a ProcessLock needs \(Self.size) bytes at \(offset)")
        self.region = region
        mutex = (region.base + offset).bindMemory(to: pthread_mutex_t.self, capacity: 1)
        untold = (region.base + offset + Self.flagOffset).bindMemory(to: UInt64.self, capacity: 1)
        if initialize {
            var attributes = pthread_mutexattr_t()
            pthread_mutexattr_init(&attributes)
            pthread_mutexattr_setpshared(&attributes, Int32(PTHREAD_PROCESS_SHARED))
            pthread_mutexattr_setrobust(&attributes, Int32(PTHREAD_MUTEX_ROBUST))
            pthread_mutex_init(mutex, &attributes)
            pthread_mutexattr_destroy(&attributes)
            untold.pointee = 0
        }
    }

    /// Waits for the lock and takes it, blocking the calling thread.
    ///
    /// Not for greenlets: it would stop the whole hub, and since every greenlet runs on the
    /// hub's thread, a second greenlet's `lock()` would wait for itself forever. Use
    /// ``acquire()`` there.
    ///
    /// - Returns: `true` if its previous holder died holding it (the data it guarded may be
    ///   half-updated); the lock is then taken over and usable again.
    @discardableResult
    public func lock() -> Bool {
        let rc = pthread_mutex_lock(mutex)
        precondition(rc == 0 || rc == EOWNERDEAD, "Sprout: pthread_mutex_lock on a ProcessLock failed: \(rc)")
        return tookOver(rc == EOWNERDEAD)
    }

    /// Takes the lock if it is free; returns whether it did.
    ///
    /// - Throws: ``ProcessLockError/previousHolderDied`` if its previous holder died
    ///   holding it; the lock is then consistent and released again, not taken.
    public func tryLock() throws(ProcessLockError) -> Bool {
        guard let holderDied = attempt() else { return false }
        if holderDied {
            unlock()
            throw .previousHolderDied
        }
        return true
    }

    /// Waits for the lock and takes it without blocking the hub: the greenlet sleeps between
    /// tries while other greenlets run (a lock in shared memory cannot wake a waiter in
    /// another process, so this polls, backing off from 50 µs to 5 ms between tries).
    /// Bound the wait with ``withTimeout(_:_:)-(Double?,_)``.
    ///
    /// - Returns: `true` if its previous holder died holding it, as ``lock()``.
    /// - Throws: `CancellationError` if the greenlet is killed (or an enclosing timeout
    ///   expires) before it gets the lock; it is not taken then.
    @Hub
    @discardableResult
    public func acquire() async throws -> Bool {
        var pause = 50e-6
        while true {
            if let holderDied = attempt() { return holderDied }
            try await sleep(pause)
            pause = min(pause * 2, 5e-3)
        }
    }

    /// One `trylock`: `nil` if the lock is held, else whether its previous holder died.
    private func attempt() -> Bool? {
        let rc = pthread_mutex_trylock(mutex)
        guard rc == 0 || rc == EOWNERDEAD else { return nil }
        return tookOver(rc == EOWNERDEAD)
    }

    /// Called holding the lock: makes a lock whose holder died consistent again, and says
    /// whether this holder is to be told — of that death, or of one a silent taker kept.
    private func tookOver(_ ownerDied: Bool) -> Bool {
        if ownerDied { pthread_mutex_consistent(mutex) }
        let kept = untold.pointee != 0
        untold.pointee = 0
        return ownerDied || kept
    }

    /// Takes the lock for a holder that cannot tell its caller; a death it finds is kept
    /// for the next holder that can.
    func lockKeepingNews() {
        let rc = pthread_mutex_lock(mutex)
        precondition(rc == 0 || rc == EOWNERDEAD, "Sprout: pthread_mutex_lock on a ProcessLock failed: \(rc)")
        if rc == EOWNERDEAD {
            pthread_mutex_consistent(mutex)
            untold.pointee = 1
        }
    }

    /// Releases the lock.
    public func unlock() {
        pthread_mutex_unlock(mutex)
    }

    /// Runs `body` holding the lock, telling it whether the previous holder died holding it
    /// (the data may be half-updated: `body` can repair it before anyone else sees it).
    ///
    /// - Throws: what `body` throws (the lock is released either way).
    public func withLock<T>(_ body: (_ previousHolderDied: Bool) throws -> T) rethrows -> T {
        let holderDied = lock()
        defer { unlock() }
        return try body(holderDied)
    }

    /// Runs `body` holding the lock.
    ///
    /// - Throws: ``ProcessLockError/previousHolderDied``, without running `body`, if the
    ///   previous holder died holding the lock (told once: the lock is consistent and
    ///   released again, so the next call proceeds; use the flag-taking `withLock` to
    ///   repair the data under the lock); what `body` throws (the lock is released either way).
    public func withLock<T>(_ body: () throws -> T) throws -> T {
        if lock() {
            unlock()
            throw ProcessLockError.previousHolderDied
        }
        defer { unlock() }
        return try body()
    }

    /// Encodes the shared memory's name.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(region.name)
    }

    /// Maps the lock another process made.
    ///
    /// - Throws: ``SharedMemoryError`` if it no longer exists or is too small to be a lock.
    public convenience init(from decoder: any Decoder) throws {
        let name = try decoder.singleValueContainer().decode(String.self)
        self.init(region: try SharedRegion(opening: name, atLeast: Self.size), offset: 0, initialize: false)
    }
}
