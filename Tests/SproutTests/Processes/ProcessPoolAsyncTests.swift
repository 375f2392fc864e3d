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
}
