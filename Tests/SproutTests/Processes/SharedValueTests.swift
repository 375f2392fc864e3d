import Testing
@testable import Sprout
import SproutTestJobs

#if canImport(Glibc)
import Glibc
#endif

@Suite("SharedValue, SharedArray and ProcessLock", .timeLimit(.minutes(1)))
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

    @Test func aLockIsExclusiveAndRecoverable() throws {
        let lock = try ProcessLock()
        #expect(lock.tryLock())
        #expect(!lock.tryLock())
        lock.unlock()
        #expect(lock.withLock { 7 } == 7)
    }
}
