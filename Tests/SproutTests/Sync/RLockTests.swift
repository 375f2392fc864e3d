import Testing
@testable import Sprout

@Suite(.timeLimit(.minutes(1)))
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
}
