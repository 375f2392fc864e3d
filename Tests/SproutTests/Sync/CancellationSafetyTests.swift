import Testing
@testable import Sprout

/// Randomized proof that a greenlet killed or timed out while waiting never takes an item
/// with it, never leaks a permit, and never wakes into a half-state.
@Suite(.heavy)
@Hub
struct CancellationSafetyTests {
    /// What the greenlets did, counted the moment each wait returned.
    @Hub final class Ledger {
        var accepted: [Int] = []
        var taken: [Int] = []
        var permitHolders = 0
        var mostPermitHolders = 0
        var lockHolders = 0
        var mostLockHolders = 0
        nonisolated init() {}
    }

    @Test func randomKillsAndTimeoutsLoseNothing() async throws {
        let seed = testSeed()
        var random = SplitMix64(seed: seed)
        let queue = Queue<Int>(maxSize: 4)
        let channel = Channel<Int>()
        let semaphore = Semaphore(value: 3)
        let lock = Lock()
        let ledger = Ledger()
        let operations = 10_000 * testScale
        let batch = 100
        let timeouts: [Double?] = [nil, 0.0002, 0.001, 0.003]
        var nextItem = 0

        for start in stride(from: 0, to: operations, by: batch) {
            var live: [Greenlet<Void>] = []
            for _ in start..<min(start + batch, operations) {
                let timeout = timeouts.randomElement(using: &random)!
                let hold = Double.random(in: 0...0.001, using: &random)
                let item = nextItem
                nextItem += 1
                let greenlet: Greenlet<Void>
                switch Int.random(in: 0..<6, using: &random) {
                case 0:
                    greenlet = spawn {
                        try await queue.put(item, timeout: timeout)
                        ledger.accepted.append(item)
                    }
                case 1:
                    greenlet = spawn { ledger.taken.append(try await queue.get(timeout: timeout)) }
                case 2:
                    greenlet = spawn {
                        try await channel.put(item, timeout: timeout)
                        ledger.accepted.append(item)
                    }
                case 3:
                    greenlet = spawn { ledger.taken.append(try await channel.get(timeout: timeout)) }
                case 4:
                    greenlet = spawn {
                        guard try await semaphore.acquire(timeout: timeout) else { return }
                        ledger.permitHolders += 1
                        ledger.mostPermitHolders = max(ledger.mostPermitHolders, ledger.permitHolders)
                        defer {
                            ledger.permitHolders -= 1
                            semaphore.release()
                        }
                        try await sleep(hold)
                    }
                default:
                    greenlet = spawn {
                        guard try await lock.acquire(timeout: timeout) else { return }
                        ledger.lockHolders += 1
                        ledger.mostLockHolders = max(ledger.mostLockHolders, ledger.lockHolders)
                        defer {
                            ledger.lockHolders -= 1
                            try? lock.release()
                        }
                        try await sleep(hold)
                    }
                }
                live.append(greenlet)
                // Kill someone at a random stage: not yet started, parked, or holding.
                if Int.random(in: 0..<4, using: &random) == 0 {
                    live.randomElement(using: &random)!.cancel()
                }
                if Int.random(in: 0..<8, using: &random) == 0 {
                    try await sleep(Bool.random(using: &random) ? 0 : 0.0005)
                }
            }
            try await sleep(0.002)
            // Whoever still waits without a deadline is killed too.
            for greenlet in live { greenlet.cancel() }
            let finished = try await joinAll(live, timeout: 10)
            #expect(finished.count == live.count, "seed \(seed): greenlets stuck after kill")
            for greenlet in live { greenlet.markObserved() }
        }

        var left: [Int] = []
        while let item = try? queue.getNowait() { left.append(item) }
        let delivered = ledger.taken + left
        #expect(Set(delivered).count == delivered.count, "seed \(seed): an item was delivered twice")
        #expect(delivered.sorted() == ledger.accepted.sorted(), "seed \(seed): accepted and delivered items differ")
        #expect(!ledger.accepted.isEmpty && !ledger.taken.isEmpty, "seed \(seed): the run exercised nothing")
        #expect(semaphore.value == 3, "seed \(seed): permits leaked")
        #expect(ledger.mostPermitHolders <= 3)
        #expect(!lock.isLocked, "seed \(seed): the lock leaked")
        #expect(ledger.mostLockHolders == 1)
        #expect(ledger.permitHolders == 0 && ledger.lockHolders == 0)
        #expect(throws: QueueError.empty) { try channel.getNowait() }
    }
}
