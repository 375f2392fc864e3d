import Synchronization
import Testing
@testable import Sprout

/// A map's unread outcomes (``MapOutcomes``): each read once, in slot order, none lost or
/// freed twice while the storage grows and drops read slots.
@Suite("MapOutcomes", .serialized)
struct MapOutcomesTests {
    /// Counts live instances, so an output copied without being destroyed (or destroyed
    /// twice) shows.
    final class Tracked: Sendable {
        static let live = Atomic(0)
        let value: Int
        init(_ value: Int) {
            self.value = value
            Self.live.add(1, ordering: .relaxed)
        }
        deinit { Self.live.subtract(1, ordering: .relaxed) }
    }

    struct Failed: Error, Equatable {
        let index: Int
    }

    @Test func outcomesArriveInAnyOrderAndAreReadInSlotOrderAcrossGrowthAndCompaction() {
        let seed = testSeed()
        var random = SplitMix64(seed: seed)
        let before = Tracked.live.load(ordering: .relaxed)
        do {
            let outcomes = MapOutcomes<Tracked>()
            let count = 5_000
            var read: [Int] = []
            var next = 0
            var arrived = 0
            // Jobs end out of order within a window of 300 (slots grow past the first 64), and
            // the reader takes what is ready now and then (read slots are dropped past 1024).
            var order = Array(0..<count)
            for start in stride(from: 0, to: count, by: 300) {
                order[start..<min(start + 300, count)].shuffle(using: &random)
            }
            for index in order {
                if index % 97 == 5 {
                    outcomes.put(failure: Failed(index: index), at: index - next)
                } else {
                    outcomes.put(Tracked(index), at: index - next)
                }
                arrived += 1
                if arrived % 50 == 0 || arrived == count {
                    while true {
                        var taken: [Tracked] = []
                        let moved = outcomes.takeReadyOutputs(into: &taken)
                        read += taken.map(\.value)
                        next += moved
                        guard let first = outcomes.takeFirst() else { break }
                        switch first {
                        case .success(let output): read.append(output.value)
                        case .failure(let error): read.append(-(error as! Failed).index)
                        }
                        next += 1
                    }
                }
            }
            #expect(read == (0..<count).map { $0 % 97 == 5 ? -$0 : $0 }, "seed \(seed)")
            #expect(outcomes.count == 0)
        }
        #expect(Tracked.live.load(ordering: .relaxed) == before, "every output read was destroyed once")
    }

    @Test func outputsNeverReadAreDestroyedWithTheStorage() {
        let before = Tracked.live.load(ordering: .relaxed)
        do {
            let outcomes = MapOutcomes<Tracked>()
            for index in 0..<200 where index != 3 { outcomes.put(Tracked(index), at: index) }
            var taken: [Tracked] = []
            #expect(outcomes.takeReadyOutputs(into: &taken) == 3)
            #expect(outcomes.takeFirst() == nil, "slot 3 is still empty")
            #expect(outcomes.count == 197)
        }
        #expect(Tracked.live.load(ordering: .relaxed) == before)
    }

    /// Integers put in a run (a chunk's outputs read from its answer) fill only the slots
    /// counted, past growth and before or after other outcomes, and are read in slot order.
    @Test func integersPutInRunsFillOnlyTheSlotsCounted() {
        let outcomes = MapOutcomes<Int>()
        // Slots 100..<103 first (an answer ahead of others; the storage grows), fewer than asked for.
        let ahead = outcomes.slots(Int.self, at: 100, count: 5)
        for k in 0..<3 { ahead[k] = 100 + k }
        outcomes.putOutputs(at: 100, count: 3)
        #expect(outcomes.count == 103)
        outcomes.put(failure: Failed(index: 99), at: 99)
        let first = outcomes.slots(Int.self, at: 0, count: 99)
        for k in 0..<99 { first[k] = k }
        outcomes.putOutputs(at: 0, count: 99)
        _ = outcomes.slots(Int.self, at: 103, count: 4)
        outcomes.putOutputs(at: 103, count: 0)
        #expect(outcomes.count == 103, "slots asked for and not counted are not outcomes")
        var read: [Int] = []
        #expect(outcomes.takeReadyOutputs(into: &read) == 99)
        #expect(read == Array(0..<99))
        guard case .failure(let error)? = outcomes.takeFirst() else {
            Issue.record("slot 99 is the failure")
            return
        }
        #expect(error as? Failed == Failed(index: 99))
        #expect(outcomes.takeReadyOutputs(into: &read) == 3)
        #expect(read.suffix(3) == [100, 101, 102])
        #expect(outcomes.takeFirst() == nil)
    }
}
