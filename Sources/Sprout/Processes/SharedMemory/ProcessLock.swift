import Glibc

/// A lock shared by processes — multiprocessing's `Lock` — in shared memory: a
/// process-shared, *robust* pthread mutex, so a holder killed by SIGKILL does not deadlock
/// the others (the next locker takes it over and is told).
///
/// Send it to workers inside a job (it is `Codable`; the shared memory's name travels).
/// ``lock()`` blocks the calling thread: fine in a worker's job. A greenlet uses
/// ``acquire()`` instead, which waits without stopping the hub.
public final class ProcessLock: Codable, @unchecked Sendable {
    static let size = (MemoryLayout<pthread_mutex_t>.size + 63) / 64 * 64

    private let region: SharedRegion
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>

    /// A new unlocked lock.
    ///
    /// - Throws: ``SharedMemoryError`` if the shared memory cannot be made.
    public convenience init() throws {
        let region = try SharedRegion(size: Self.size)
        self.init(region: region, offset: 0, initialize: true)
    }

    /// The lock at `offset` in `region`, set up there first when `initialize` is true.
    init(region: SharedRegion, offset: Int, initialize: Bool) {
        self.region = region
        mutex = (region.base + offset).bindMemory(to: pthread_mutex_t.self, capacity: 1)
        if initialize {
            var attributes = pthread_mutexattr_t()
            pthread_mutexattr_init(&attributes)
            pthread_mutexattr_setpshared(&attributes, Int32(PTHREAD_PROCESS_SHARED))
            pthread_mutexattr_setrobust(&attributes, Int32(PTHREAD_MUTEX_ROBUST))
            pthread_mutex_init(mutex, &attributes)
            pthread_mutexattr_destroy(&attributes)
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
        if rc == EOWNERDEAD {
            pthread_mutex_consistent(mutex)
            return true
        }
        precondition(rc == 0, "Sprout: pthread_mutex_lock on a ProcessLock failed: \(rc)")
        return false
    }

    /// Takes the lock if it is free; returns whether it did.
    public func tryLock() -> Bool {
        attempt() != nil
    }

    /// Waits for the lock and takes it without blocking the hub: the greenlet sleeps between
    /// tries while other greenlets run (a lock in shared memory cannot wake a waiter in
    /// another process, so this polls, backing off from 50 µs to 5 ms between tries).
    /// Bound the wait with ``withTimeout(_:_:)``.
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
        if rc == EOWNERDEAD {
            pthread_mutex_consistent(mutex)
            return true
        }
        return rc == 0 ? false : nil
    }

    /// Releases the lock.
    public func unlock() {
        pthread_mutex_unlock(mutex)
    }

    /// Runs `body` holding the lock.
    ///
    /// - Throws: what `body` throws (the lock is released either way).
    public func withLock<T>(_ body: () throws -> T) rethrows -> T {
        lock()
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
    /// - Throws: ``SharedMemoryError`` if it no longer exists.
    public convenience init(from decoder: any Decoder) throws {
        let name = try decoder.singleValueContainer().decode(String.self)
        self.init(region: try SharedRegion(opening: name), offset: 0, initialize: false)
    }
}
