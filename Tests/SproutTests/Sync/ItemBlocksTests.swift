import Synchronization
import Testing
@testable import Sprout

/// Counts its live instances, to see that a store ends the items it still holds.
private final class Tracked: Sendable {
    static let alive = Atomic<Int>(0)
    let value: Int

    init(_ value: Int) {
        self.value = value
        Self.alive.add(1, ordering: .relaxed)
    }

    deinit { Self.alive.subtract(1, ordering: .relaxed) }
}

struct ItemBlocksTests {
    @Test func keepsOrderAcrossBlocksAndPeeksAcrossAnEdge() {
        var blocks = ItemBlocks<Int>()
        let capacity = ItemBlocks<Int>.capacity
        #expect(blocks.first == nil)
        for item in 0..<(3 * capacity + 5) { blocks.append(item) }
        #expect(blocks.count == 3 * capacity + 5)
        #expect(blocks.blocksHeld == 4)
        for expected in 0..<capacity { #expect(blocks.removeFirst() == expected) }
        // The next item is the first of the second block.
        #expect(blocks.first == capacity)
        var taken: [Int] = []
        while blocks.count > 0 { taken.append(blocks.removeFirst()) }
        #expect(taken == Array(capacity..<(3 * capacity + 5)))
        #expect(blocks.first == nil)
    }

    @Test func givesBlocksBackAsItDrainsKeepingOneSpare() {
        var blocks = ItemBlocks<Int>()
        let capacity = ItemBlocks<Int>.capacity
        for item in 0..<(10 * capacity) { blocks.append(item) }
        #expect(blocks.blocksHeld == 10)
        for _ in 0..<(5 * capacity + 1) { _ = blocks.removeFirst() }
        // Five used-up blocks (a block is let go when the item after its last is taken):
        // one kept aside, four freed.
        #expect(blocks.blocksHeld == 6)
        while blocks.count > 0 { _ = blocks.removeFirst() }
        #expect(blocks.blocksHeld == 2)
        // A queue that keeps crossing a block's edge uses the block in hand and the spare.
        for item in 0..<(capacity - 1) { blocks.append(item) }
        for item in 0..<(4 * capacity) {
            blocks.append(item)
            _ = blocks.removeFirst()
            #expect(blocks.blocksHeld <= 2)
        }
        while blocks.count > 0 { _ = blocks.removeFirst() }
        #expect(blocks.blocksHeld == 2)
    }

    @Test func endsTheItemsItStillHoldsWhenItEnds() {
        let before = Tracked.alive.load(ordering: .relaxed)
        do {
            var blocks = ItemBlocks<Tracked>()
            let capacity = ItemBlocks<Tracked>.capacity
            for item in 0..<(2 * capacity + 3) { blocks.append(Tracked(item)) }
            for expected in 0..<(capacity + 1) { #expect(blocks.removeFirst().value == expected) }
            #expect(Tracked.alive.load(ordering: .relaxed) == before + capacity + 2)
        }
        #expect(Tracked.alive.load(ordering: .relaxed) == before)
    }
}
