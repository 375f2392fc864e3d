import Testing
@testable import Sprout
import SproutTestJobs

@Suite("SharedDictionary", .heavy)
struct SharedDictionaryTests {
    @Test func workersReadAndWriteTheParentsDictionary() async throws {
        let left = try await onHub {
            try await withTestPool(workers: 3) { (pool: ProcessPool) async throws in
                let dictionary = try SharedDictionary<String, Int>()
                try await dictionary.set("parent", 42)
                let writers = (0..<3).map { DictionaryWriter(dictionary: dictionary, prefix: "w\($0)", count: 20) }
                #expect(try await pool.map(writers, chunkSize: 1) == [42, 42, 42])
                let all = try await dictionary.snapshot()
                #expect(all.count == 1 + 3 * 19)
                #expect(all["w1-7"] == 7)
                #expect(all["w2-0"] == nil)
                #expect(try await dictionary.remove("parent") == 42)
                #expect(try await dictionary.get("parent") == nil)
            }
        }
        #expect(left.isEmpty)
    }

    @Test func keysCountSubscriptAndAtomicUpdates() async throws {
        let left = try await onHub {
            try await withTestPool(workers: 2) { (pool: ProcessPool) async throws in
                let dictionary = try SharedDictionary<String, Int>()
                let list = try SharedList<Int>([0])
                try await dictionary.set("a", 1)
                try await dictionary.set("b", 2)
                #expect(try await dictionary["a"] == 1)
                #expect(try await dictionary["zzz"] == nil)
                #expect(try await dictionary.keys.sorted() == ["a", "b"])
                #expect(try await dictionary.count == 2)
                // Workers and the parent increment the same entries at once: no update is lost.
                let jobs = (0..<4).map { _ in SharedCounter(dictionary: dictionary, list: list, key: "hits", times: 50) }
                let running = pool.mapAsync(jobs)
                for _ in 0..<50 {
                    try await dictionary.update("hits") { $0 = ($0 ?? 0) + 1 }
                    try await list.update { $0[0] += 1 }
                }
                #expect(try await running.get(timeout: 30) == [50, 50, 50, 50])
                #expect(try await dictionary["hits"] == 250)
                #expect(try await list[0] == 250)
            }
        }
        #expect(left.isEmpty)
    }
}
