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
}
