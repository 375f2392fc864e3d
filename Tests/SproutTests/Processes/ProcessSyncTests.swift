import Testing
@testable import Sprout
import SproutTestJobs
import SproutTestSupport

import Glibc

@Suite("Process-shared RLock, Semaphore, Event, Barrier", .heavy)
struct ProcessSyncTests {
    @Test func anRLockIsReentrantAndOnlyItsHolderReleasesIt() async throws {
        try await onHub { () async throws in
            let lock = try ProcessRLock()
            #expect(try await lock.acquire() == false)
            #expect(try await lock.acquire() == false, "the holder takes it again")
            let other = spawn { () async throws -> Bool? in lock.tryAcquire() }
            #expect(try await other.get() == nil, "another greenlet must wait")
            let stranger = spawn { () -> Bool in
                do { try lock.release(); return false } catch { return error as? ProcessSyncError == .notOwner }
            }
            #expect(try await stranger.get(), "a greenlet that does not hold it cannot release it")
            try lock.release()
            #expect(lock.tryAcquire() == false, "still held once, by the same greenlet: it re-enters")
            try lock.release()
            try lock.release()
            #expect(throws: ProcessSyncError.notOwner) { try lock.release() }
        }
    }

    @Test func locksAndSlotsHeldByAKilledProcessAreTakenBack() async throws {
        try await onHub { () async throws in
            let lock = try ProcessRLock()
            let semaphore = try ProcessSemaphore(value: 1)
            let child = ChildProcess(DieHolding(rlock: lock, semaphore: semaphore), executable: workerExecutable)
            try child.start()
            #expect(try await child.join(timeout: 20))
            #expect(child.exitStatus == .signaled(SIGKILL))
            #expect(semaphore.value == 0, "the dead process held the one slot")
            #expect(try await withTimeout(5) { try await lock.acquire() } == true, "taken over, and told")
            try lock.release()
            #expect(try await semaphore.acquire(timeout: 5) == true, "the slot came back, and the taker is told")
            #expect(try await semaphore.acquire(timeout: 0.05) == nil, "one slot only")
            try semaphore.release()
            #expect(throws: ProcessSyncError.releasedTooOften) { try semaphore.release() }
        }
    }

    @Test func anEventWakesAWaiterInAWorker() async throws {
        let left = try await onHub {
            try await withTestPool(workers: 2) { (pool: ProcessPool) async throws in
                let event = try ProcessEvent()
                #expect(try await pool.run(WaitForEvent(event: event, timeout: 0.05)) == false)
                let waiter = try pool.submit(WaitForEvent(event: event, timeout: 20))
                try await sleep(0.1)
                #expect(!waiter.isReady)
                event.set()
                #expect(try await waiter.get(timeout: 20) == true)
                #expect(event.isSet)
                event.clear()
                #expect(try await event.wait(timeout: 0.02) == false)
            }
        }
        #expect(left.isEmpty)
    }

    @Test func aBarrierLetsAllGoTogetherAndBreaksWhenAPartyDies() async throws {
        let left = try await onHub {
            try await withTestPool(workers: 2) { (pool: ProcessPool) async throws in
                let barrier = try ProcessBarrier(parties: 3)
                let workers = try (0..<2).map { _ in try pool.submit(WaitAtBarrier(barrier: barrier)) }
                let mine = try await barrier.wait(timeout: 20)
                var indices = [mine]
                for worker in workers { indices.append(try await worker.get(timeout: 20)) }
                #expect(indices.sorted() == [0, 1, 2])

                // A party dies waiting: the others are not left waiting for it.
                let pair = try ProcessBarrier(parties: 2)
                let child = ChildProcess(WaitAtBarrier(barrier: pair), executable: workerExecutable)
                try child.start()
                while pair.waitingCount == 0 { try await sleep(0.01) }
                child.kill()
                try await child.join(timeout: 10)
                await #expect(throws: ProcessSyncError.brokenBarrier) { try await pair.wait(timeout: 20) }
                #expect(pair.isBroken)
                pair.reset()
                #expect(!pair.isBroken)
            }
        }
        #expect(left.isEmpty)
    }
}
