import Testing
@testable import Sprout
import SproutTestJobs

import Glibc

@Suite("SharedValue, SharedArray and ProcessLock", .heavy)
struct SharedValueTests {
    @Test func incrementsFromFourProcessesAddUp() async throws {
        let times = 2000 * testScale
        let left = try await onHub {
            try await withTestPool(workers: 4) { (pool: ProcessPool) async throws in
                let counter = try SharedValue<Int64>(0)
                let done = try await pool.map((0..<4).map { _ in Increment(value: counter, times: times) }, chunkSize: 1)
                #expect(done == [times, times, times, times])
                #expect(counter.value == Int64(4 * times))
            }
        }
        #expect(left.isEmpty)
    }

    @Test func aHolderKilledBySIGKILLDoesNotDeadlockTheOthers() async throws {
        let times = 2000 * testScale
        let left = try await onHub {
            try await withTestPool(workers: 4) { (pool: ProcessPool) async throws in
                let counter = try SharedValue<Int64>(0)
                var jobs = (0..<3).map { _ in Increment(value: counter, times: times) }
                jobs.append(Increment(value: counter, times: times / 2, dieHolding: true))
                var crashed = 0
                for try await outcome in pool.mapResults(jobs, chunkSize: 1) {
                    if case .failure(let error) = outcome {
                        #expect((error as? WorkerCrashed)?.status == .signaled(SIGKILL))
                        crashed += 1
                    }
                }
                #expect(crashed == 1)
                #expect(counter.value == Int64(3 * times + times / 2))
                // The lock is usable afterwards, here and in a fresh worker.
                #expect(try await pool.run(Increment(value: counter, times: 1)) == 1)
                #expect(counter.value == Int64(3 * times + times / 2 + 1))
            }
        }
        #expect(left.isEmpty)
    }

    @Test func aSharedArrayIsSeenByWorkers() async throws {
        let left = try await onHub {
            try await withTestPool(workers: 1) { (pool: ProcessPool) async throws in
                let array = try SharedArray<Double>(repeating: -1, count: 5)
                #expect(try await pool.run(FillSquares(array: array)) == 5)
                #expect(array.values == [0, 1, 4, 9, 16])
                array[2] = 2.5
                #expect(array[2] == 2.5)
                let copy = try SharedArray<Int32>([1, 2, 3])
                #expect(copy.values == [1, 2, 3])
            }
        }
        #expect(left.isEmpty)
    }

    @Test func aLockIsExclusiveAndRecoverable() async throws {
        let lock = try ProcessLock()
        #expect(try lock.tryLock())
        #expect(try !lock.tryLock())
        lock.unlock()
        #expect(try lock.withLock { 7 } == 7)
        // A holder that ends without unlocking (a thread here; a killed process is the same
        // to a robust mutex) leaves the lock to the next taker, who is told.
        var holder = pthread_t()
        let rc = pthread_create(&holder, nil, { lock in
            Unmanaged<ProcessLock>.fromOpaque(lock!).takeUnretainedValue().lock()
            return nil
        }, Unmanaged.passUnretained(lock).toOpaque())
        try #require(rc == 0)
        pthread_join(holder, nil)
        // Taken and released on one thread, the hub's: a robust mutex belongs to a thread.
        try await onHub {
            let holderDied = try await withTimeout(5) { try await lock.acquire() }
            #expect(holderDied, "the next taker must learn that the holder died")
            lock.unlock()
            #expect(try await withTimeout(5) { try await lock.acquire() } == false, "once taken over, the lock is an ordinary one again")
            lock.unlock()
        }
    }

    @Test func aHolderThatDiedIsToldOnceAlsoThroughWithLock() async throws {
        let left = try await onHub {
            try await withTestPool(workers: 1) { (pool: ProcessPool) async throws in
                let counter = try SharedValue<Int64>(0)
                await #expect(throws: WorkerCrashed.self) {
                    _ = try await pool.run(Increment(value: counter, times: 1, dieHolding: true))
                }
                #expect(throws: ProcessLockError.previousHolderDied) { try counter.withLock { $0 += 1 } }
                try counter.withLock { $0 += 1 }
                #expect(counter.value == 2, "told once: the call after the error ran its body")

                await #expect(throws: WorkerCrashed.self) {
                    _ = try await pool.run(Increment(value: counter, times: 1, dieHolding: true))
                }
                // A subscript cannot tell its caller: it keeps the news for the next holder.
                #expect(counter.value == 3)
                #expect(counter.withLock { _, holderDied in holderDied } == true)
                #expect(counter.withLock { _, holderDied in holderDied } == false)
                #expect(throws: Never.self) { try counter.lock.tryLock() }
                counter.lock.unlock()
            }
        }
        #expect(left.isEmpty)
    }

    @Test func aSharedArrayChecksWhatItMaps() throws {
        // A region whose header claims more numbers than it holds, as a corrupt or foreign
        // name would: decoding it is an error, not a read past the mapping.
        let region = try SharedRegion(size: 64 + ProcessLock.size + 16)
        region.base.storeBytes(of: UInt64(1_000_000), as: UInt64.self)
        let coder = JSONProcessCoder()
        let name = try coder.encode(region.name)
        #expect(throws: SharedMemoryError.self) { _ = try coder.decode(SharedArray<Int64>.self, from: name[...]) }
        region.base.storeBytes(of: UInt64(2), as: UInt64.self)
        #expect(try coder.decode(SharedArray<Int64>.self, from: name[...]).count == 2)
        let tiny = try SharedRegion(size: 8)
        #expect(throws: SharedMemoryError.self) { _ = try coder.decode(ProcessLock.self, from: try coder.encode(tiny.name)[...]) }
    }

    @Test func greenletsWaitForALockWithoutStoppingTheHub() async throws {
        let lock = try ProcessLock()
        try await onHub {
            #expect(try await lock.acquire() == false)
            let released = LockReleased()
            let waiter = spawn { () async throws -> Bool in
                try await lock.acquire()
                defer { lock.unlock() }
                return released.isSet
            }
            // This greenlet sleeps and wakes while the other waits on the same thread: a
            // blocking lock there would have stopped the hub (and never returned).
            try await sleep(0.05)
            #expect(!waiter.isReady, "the lock is held: the second greenlet must still wait")
            released.isSet = true
            lock.unlock()
            #expect(try await waiter.get(timeout: 5), "the waiter took the lock before it was released")
        }
    }

    @Test func acquireReportsAHolderThatDied() async throws {
        let left = try await onHub {
            try await withTestPool(workers: 1) { (pool: ProcessPool) async throws in
                let counter = try SharedValue<Int64>(0)
                await #expect(throws: WorkerCrashed.self) {
                    _ = try await pool.run(Increment(value: counter, times: 0, dieHolding: true))
                }
                #expect(try await withTimeout(5) { try await counter.lock.acquire() } == true)
                counter.lock.unlock()
                #expect(try await counter.lock.acquire() == false)
                counter.lock.unlock()
            }
        }
        #expect(left.isEmpty)
    }
}

/// Set once by one greenlet, read by another.
@Hub
private final class LockReleased {
    var isSet = false
}
