import Testing
@testable import Sprout

@Suite(.heavy)
@Hub
struct BoundedSemaphoreTests {
    @Test func overReleaseThrows() async throws {
        let semaphore = BoundedSemaphore(value: 2)
        #expect(throws: LockError.overReleased(bound: 2)) { try semaphore.release() }
        try await semaphore.acquire()
        try semaphore.release()
        #expect(semaphore.value == 2)
        #expect(throws: LockError.overReleased(bound: 2)) { try semaphore.release() }
    }

    @Test func acquireParksAtZeroAndTimesOut() async throws {
        let semaphore = BoundedSemaphore(value: 1)
        #expect(semaphore.tryAcquire())
        #expect(try await semaphore.acquire(timeout: 0.01) == false)
        try semaphore.release()
        #expect(try await semaphore.acquire(timeout: 0.01))
    }
}
