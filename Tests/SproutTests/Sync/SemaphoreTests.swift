import Testing
@testable import Sprout

@Suite(.heavy)
@Hub
struct SemaphoreTests {
    @Test func neverMoreHoldersThanPermits() async throws {
        let semaphore = Semaphore(value: 3)
        var holding = 0, most = 0
        let workers = (0..<20).map { _ in
            spawn {
                try await semaphore.withPermit {
                    holding += 1
                    most = max(most, holding)
                    try await sleep(0.001)
                    holding -= 1
                }
            }
        }
        try await joinAll(workers, raiseError: true)
        #expect(most == 3)
        #expect(semaphore.value == 3)
    }

    @Test func releasedPermitGoesToTheLongestWaiter() async throws {
        let semaphore = Semaphore(value: 0)
        var order: [Int] = []
        let waiters = (0..<4).map { index in
            spawn {
                try await semaphore.acquire()
                order.append(index)
            }
        }
        try await sleep(0.01)
        for _ in 0..<4 { semaphore.release() }
        try await joinAll(waiters, raiseError: true)
        #expect(order == [0, 1, 2, 3])
        #expect(semaphore.value == 0)
    }

    @Test func timeoutAndKillLeakNoPermit() async throws {
        let semaphore = Semaphore(value: 0)
        #expect(try await semaphore.acquire(timeout: 0.01) == false)
        let killed = spawn { try await semaphore.acquire() }
        let patient = spawn { try await semaphore.acquire(timeout: 1) }
        try await sleep(0.01)
        try await killed.kill(timeout: 1)
        semaphore.release()
        #expect(try await patient.get())
        #expect(semaphore.value == 0)
        #expect(!semaphore.tryAcquire())
        semaphore.release()
        #expect(semaphore.tryAcquire())
    }

    @Test func releaseFromAnotherThreadWakesAWaiter() async throws {
        let semaphore = Semaphore(value: 0)
        let waiter = spawn { try await semaphore.acquire(timeout: 5) }
        OSThread.detach { semaphore.releaseFromAnyThread() }
        #expect(try await waiter.get())
        #expect(semaphore.value == 0)
    }
}
