import Testing
@testable import Sprout
import SproutTestJobs

@Suite("SharedList", .heavy)
struct SharedListTests {
    @Test func workersAppendToTheParentsList() async throws {
        let left = try await onHub {
            try await withTestPool(workers: 3) { (pool: ProcessPool) async throws in
                let list = try SharedList<Int>()
                let jobs = (0..<3).map { worker in ListAppender(list: list, values: (1...10).map { worker * 100 + $0 }) }
                let counts = try await pool.map(jobs, chunkSize: 1)
                #expect(counts.allSatisfy { $0 >= 20 && $0 <= 60 })
                #expect(try await list.count == 60)
                let all = try await list.snapshot()
                let expected = (0..<3).flatMap { worker in (1...10).map { worker * 100 + $0 } }
                #expect(all.filter { $0 > 0 }.sorted() == expected, "every append arrived once")
                #expect(all.filter { $0 < 0 }.sorted() == expected.map { -$0 }.sorted())
            }
        }
        #expect(left.isEmpty)
    }

    @Test func subscriptSetAndNegativeIndices() async throws {
        try await onHub { () async throws in
            let list = try SharedList(["a", "b", "c"])
            #expect(try await list[0] == "a")
            #expect(try await list[-1] == "c")
            try await list.set(1, "B")
            #expect(try await list.snapshot() == ["a", "B", "c"])
            await #expect(throws: SharedListError.indexOutOfRange(3, count: 3)) { try await list[3] }
            await #expect(throws: SharedListError.indexOutOfRange(-4, count: 3)) { try await list.set(-4, "x") }
            let removed = try await list.update { $0.removeFirst() }
            #expect(removed == "a")
            #expect(try await list.count == 2)
        }
    }
}
