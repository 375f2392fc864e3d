import Testing
@testable import Sprout
import SproutTestJobs
import SproutTestSupport

@Suite("ProcessPool+Async", .heavy)
struct ProcessPoolAsyncTests {
    @Test func submitCallsBackWithTheOutputOrTheError() async throws {
        let left = try await onHub {
            try await withTestPool { (pool: ProcessPool) async throws in
                let outcomes = Queue<String>()
                try pool.submit(Square(6)) { result in
                    try? outcomes.putNowait("callback \((try? result.get()) ?? -1)")
                }
                try pool.submit(Fail(code: 3)) { result in
                    if case .failure(let error) = result { try? outcomes.putNowait("error_callback \(error is JobFailed)") }
                }
                let seen = [try await outcomes.get(timeout: 20), try await outcomes.get(timeout: 20)]
                #expect(seen.sorted() == ["callback 36", "error_callback true"])
            }
        }
        #expect(left.isEmpty)
    }

    @Test func mapAsyncGivesOneHandleForTheWholeMap() async throws {
        let left = try await onHub {
            try await withTestPool { (pool: ProcessPool) async throws in
                let whole = pool.mapAsync((1...10).map(Square.init))
                let called = Queue<[Int]>()
                whole.onDone { result in try? called.putNowait((try? result.get()) ?? []) }
                #expect(try await whole.get(timeout: 20) == (1...10).map { $0 * $0 })
                #expect(try await called.get(timeout: 5) == (1...10).map { $0 * $0 })

                let pairs = pool.starmapAsync([(2, 3), (4, 5)]) { a, b in Square(a * b) }
                #expect(try await pairs.get(timeout: 20) == [36, 400])

                let failing = pool.mapAsync([Fail(code: 1), Fail(code: 2)])
                await #expect(throws: JobFailed.self) { try await failing.get(timeout: 20) }
            }
        }
        #expect(left.isEmpty)
    }

    /// multiprocessing's own pattern: `map_async`, then `close()` and `join()` at once, then
    /// the results — every one of them, however the map is chunked and whether or not its
    /// reader has started.
    @Test(arguments: [nil, 1] as [Int?])
    func aMapStartedBeforeCloseRunsAllOfIt(chunkSize: Int?) async throws {
        let left = try await onHub {
            try await withTestPool { (pool: ProcessPool) async throws in
                let whole = pool.mapAsync((0..<5_000).map(Square.init), chunkSize: chunkSize)
                // Started before close, read only after join: its window must not hold join up.
                let lazy = pool.imap((0..<3_000).map(Square.init), chunkSize: chunkSize)
                pool.close()
                do {
                    _ = try await pool.map([Square(1)])
                    Issue.record("a map made after close() ran")
                } catch ProcessPoolError.closed {}
                try await withTimeout(60) { try await pool.join() }
                #expect(try await whole.get(timeout: 5) == (0..<5_000).map { $0 * $0 })
                var read: [Int] = []
                for try await output in lazy { read.append(output) }
                #expect(read == (0..<3_000).map { $0 * $0 })
            }
        }
        #expect(left.isEmpty)
    }

    /// An endless map whose reader stops, then `close()`: the map is abandoned with chunks
    /// still queued, and `join()` returns once the chunk running ends — the queued ones,
    /// ended, are no work left (accept's hang: they kept the idle worker waiting).
    @Test func joinReturnsAfterAnEndlessMapIsAbandonedWithChunksQueued() async throws {
        let left = try await onHub {
            try await withTestPool(workers: 1) { (pool: ProcessPool) async throws in
                // Jobs this long take no prefetch: all but the running chunk stay queued.
                let endless = (0...).lazy.map { SlowSquare($0, micros: 20_000) }
                var read = 0
                for try await output in pool.imap(endless, chunkSize: 1) {
                    #expect(output == read * read)
                    read += 1
                    if read == 3 { break }
                }
                pool.close()
                try await withTimeout(20) { try await pool.join() }
            }
        }
        #expect(left.isEmpty)
    }

    /// A queued job cancelled after `close()` is no work left: `join()` returns once the
    /// running one ends.
    @Test func joinReturnsAfterAQueuedJobIsCancelledInAClosedPool() async throws {
        let left = try await onHub {
            try await withTestPool(workers: 1) { (pool: ProcessPool) async throws in
                // A long job first, so the pool sends no job ahead to a busy worker.
                _ = try await pool.run(SlowSquare(0, micros: 50_000))
                let running = try pool.submit(SlowSquare(3, micros: 300_000))
                let queued = try pool.submit(Square(4))
                // Queued here, not sent ahead: cancelling it leaves an ended task pending.
                #expect(pool.workers.first?.outstanding.count == 1)
                pool.close()
                queued.cancel()
                try await withTimeout(20) { try await pool.join() }
                #expect(try await running.get(timeout: 5) == 9)
                await #expect(throws: JobCancelled.self) { try await queued.get(timeout: 5) }
            }
        }
        #expect(left.isEmpty)
    }
}
