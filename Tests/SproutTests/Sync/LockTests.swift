import Testing
@testable import Sprout

@Suite(.heavy)
@Hub
struct LockTests {
    @Test func excludesAcrossSwitches() async throws {
        let lock = Lock()
        var inside = 0, most = 0
        let workers = (0..<10).map { _ in
            spawn {
                try await lock.withLock {
                    inside += 1
                    most = max(most, inside)
                    try await sleep(0)
                    inside -= 1
                }
            }
        }
        try await joinAll(workers, raiseError: true)
        #expect(most == 1)
        #expect(!lock.isLocked)
    }

    @Test func releaseOfAnUnheldLockThrows() async throws {
        let lock = Lock()
        #expect(throws: LockError.notLocked) { try lock.release() }
        #expect(lock.tryAcquire())
        #expect(try await lock.acquire(timeout: 0.01) == false)
        try lock.release()
        #expect(!lock.isLocked)
    }

    @Test func killedWaiterDoesNotTakeTheLock() async throws {
        let lock = Lock()
        try await lock.acquire()
        let doomed = spawn { try await lock.acquire() }
        try await sleep(0.01)
        try await doomed.kill(timeout: 1)
        try lock.release()
        #expect(!lock.isLocked)
    }
}
