import Testing
@testable import Sprout

@Suite(.heavy)
@Hub
struct RLockTests {
    @Test func holderMayTakeItAgain() async throws {
        let lock = RLock()
        let holder = spawn {
            try await lock.acquire()
            try await lock.acquire()
            #expect(lock.isOwnedByCurrentGreenlet)
            try lock.release()
            #expect(lock.isLocked)
            try lock.release()
            #expect(!lock.isLocked)
        }
        try await holder.get(timeout: 1)
    }

    @Test func othersWaitAndOnlyTheHolderReleases() async throws {
        let lock = RLock()
        let taken = Event()
        let release = Event()
        let holder = spawn {
            try await lock.acquire()
            taken.set()
            try await release.wait()
            try lock.release()
        }
        try await taken.wait()
        let intruder = spawn { try lock.release() }
        await #expect(throws: LockError.notOwner) { try await intruder.get() }
        let waiter = spawn { try await lock.acquire(timeout: 0.01) }
        #expect(try await waiter.get() == false)
        release.set()
        try await holder.get()
        #expect(throws: LockError.notLocked) { try lock.release() }
    }

    /// A `withTimeout` body runs in a task of its own, but it is still the calling
    /// greenlet's code (as in gevent, where a Timeout does not change `getcurrent()`):
    /// the lock it holds is still its own.
    @Test func theHolderMayTakeItAgainInsideATimeout() async throws {
        try await spawn {
            let lock = RLock()
            try await lock.acquire()
            let again = try await withTimeout(2) { try await lock.acquire(timeout: 0.2) }
            #expect(again, "the holder had to wait for itself inside withTimeout")
            try lock.release()
            try lock.release()
            #expect(!lock.isLocked)
        }.get()
    }
}
