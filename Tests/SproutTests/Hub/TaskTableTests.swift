import Testing
@testable import Sprout
import SproutTestSupport

@Suite(.timeLimit(.minutes(1)))
struct TaskTableTests {
    /// Random inserts, replacements and removals, checked against a `Dictionary` after
    /// every step. Keys are 16-byte aligned like task addresses and drawn from a small
    /// range, so probe runs collide, wrap around the end of the table and get holes
    /// punched into them by removals.
    @Test func agreesWithADictionaryUnderRandomChurn() {
        let seed = testSeed()
        var generator = SplitMix64(seed: seed)
        var table = TaskTable<Int>()
        var reference: [UInt: Int] = [:]
        let steps = 20_000 * testScale
        for step in 0..<steps {
            let key = UInt.random(in: 1...600, using: &generator) * 16
            if Bool.random(using: &generator) || reference.count < 8 {
                table.insert(key, step)
                reference[key] = step
            } else {
                table.remove(key)
                reference[key] = nil
            }
            let count = table.count
            #expect(count == reference.count, "seed \(seed), step \(step)")
            let probe = UInt.random(in: 1...600, using: &generator) * 16
            let found = table[probe]
            let contained = table.contains(probe)
            #expect(found == reference[probe], "seed \(seed), step \(step)")
            #expect(contained == (reference[probe] != nil), "seed \(seed), step \(step)")
        }
        for (key, value) in reference {
            let found = table[key]
            #expect(found == value)
        }
        let values = table.allValues.sorted()
        #expect(values == reference.values.sorted())
    }

    @Test func growsAndEmptiesCompletely() {
        var table = TaskTable<UInt>()
        let keys = (1...10_000).map { UInt($0) &* 0x1000 }
        for key in keys { table.insert(key, key) }
        let countAfterInserts = table.count
        #expect(countAfterInserts == keys.count)
        var allFound = true
        for key in keys where table[key] != key { allFound = false }
        #expect(allFound)
        for key in keys.reversed() { table.remove(key) }
        let countAfterRemovals = table.count
        let leftOver = table.allValues
        let stillContained = table.contains(keys[0])
        #expect(countAfterRemovals == 0)
        #expect(leftOver.isEmpty)
        #expect(!stillContained)
    }
}
