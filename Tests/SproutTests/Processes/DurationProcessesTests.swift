import Testing
@testable import Sprout
import SproutTestJobs
import SproutTestSupport

import Glibc

/// The process calls' `Duration` overloads wait as long as their `Double` twins: a
/// conversion that drops the sub-second part or scales it wrongly shows in the recorded
/// timeout or the time waited.
@Suite("Duration+Processes", .heavy)
struct DurationProcessesTests {
    /// Runs `body` and returns its value and the seconds it took.
    @Hub private func timed<T: Sendable>(_ body: @Hub () async throws -> T) async rethrows -> (T, Double) {
        let start = monotonicNanoseconds()
        let value = try await body()
        return (value, Double(monotonicNanoseconds() - start) / 1e9)
    }

    @Test func poolJobsAndChildrenTakeDurations() async throws {
        try await onHub(seconds: 60) {
            let pool = try await ProcessPool(workers: 1, executable: workerExecutable)
            do {
                _ = try await pool.run(Nap(seconds: 30), timeout: .milliseconds(150))
                Issue.record("run did not time out")
            } catch let timeout as Timeout {
                #expect(timeout.seconds == 0.15)
            }
            let handle = try pool.submit(Nap(seconds: 30), timeout: .milliseconds(150))
            await #expect(throws: Timeout.self) { _ = try await handle.get(timeout: .seconds(10)) }
            let called = AsyncResult<Bool>()
            let noted = try pool.submit(Square(4), timeout: .seconds(10)) { result in try? called.set((try? result.get()) == 16) }
            #expect(try await noted.get() == 16)
            #expect(try await called.get(timeout: .seconds(5)))
            try await pool.shutdown()

            let child = ChildProcess(Nap(seconds: 30), executable: workerExecutable)
            try child.start()
            do {
                _ = try await child.value(timeout: .milliseconds(100))
                Issue.record("value did not time out")
            } catch let timeout as Timeout {
                #expect(timeout.seconds == 0.1)
            }
            child.kill()
            #expect(try await child.join(timeout: .seconds(5)))

            // BusyLoop ignores SIGTERM: only the SIGKILL `grace` later ends it.
            let stubborn = ChildProcess(BusyLoop(), executable: workerExecutable)
            try stubborn.start()
            try await sleep(0.3)
            let (ended, took) = try await self.timed { () async throws -> Bool in
                stubborn.terminate(grace: .milliseconds(200))
                return try await stubborn.join(timeout: .seconds(10))
            }
            #expect(ended && stubborn.exitCode == -SIGKILL)
            #expect(took >= 0.18 && took < slack(2), "ended \(took) s after terminate")
        }
    }

    @Test func sharedPrimitivesTakeDurations() async throws {
        try await onHub {
            let queue = try ProcessQueue<Int>()
            let (_, queueWait) = await self.timed {
                await #expect(throws: QueueError.empty) { _ = try await queue.get(timeout: .milliseconds(60)) }
            }
            #expect(queueWait >= 0.055 && queueWait < slack(1.5), "waited \(queueWait) s")

            let (left, right) = try ProcessPipe<Int>.pair()
            let (received, pipeWait) = try await self.timed { try await right.receive(timeout: .milliseconds(60)) }
            #expect(received == nil)
            #expect(pipeWait >= 0.055 && pipeWait < slack(1.5), "waited \(pipeWait) s")
            try await left.send(5)
            #expect(try await right.receive(timeout: .seconds(5)) == 5)

            let event = try ProcessEvent()
            let (set, eventWait) = try await self.timed { try await event.wait(timeout: .milliseconds(60)) }
            #expect(set == false)
            #expect(eventWait >= 0.055 && eventWait < slack(1.5), "waited \(eventWait) s")

            let semaphore = try ProcessSemaphore(value: 1)
            #expect(try await semaphore.acquire(timeout: .seconds(1)) == false)
            let (slot, semaphoreWait) = try await self.timed { try await semaphore.acquire(timeout: .milliseconds(60)) }
            #expect(slot == nil)
            #expect(semaphoreWait >= 0.055 && semaphoreWait < slack(1.5), "waited \(semaphoreWait) s")

            let barrier = try ProcessBarrier(parties: 2)
            let (_, barrierWait) = await self.timed {
                await #expect(throws: ProcessSyncError.brokenBarrier) { _ = try await barrier.wait(timeout: .milliseconds(60)) }
            }
            #expect(barrierWait >= 0.055 && barrierWait < slack(1.5), "waited \(barrierWait) s")
        }
    }
}
