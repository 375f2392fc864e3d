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
}
