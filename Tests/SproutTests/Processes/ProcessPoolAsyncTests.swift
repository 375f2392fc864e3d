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
}
