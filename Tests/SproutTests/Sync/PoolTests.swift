import Testing
@testable import Sprout

@Suite(.heavy)
@Hub
struct PoolTests {
    @Test func spawnWaitsForAFreeSlot() async throws {
        let pool = Pool(size: 2)
        let gate = Event()
        for _ in 0..<2 { try await pool.spawn { try await gate.wait() } }
        #expect(pool.isFull)
        #expect(pool.trySpawn { } == nil)
        let third = spawn { try await pool.spawn { 3 } }
        try await sleep(0.01)
        #expect(!third.isReady)
        gate.set()
        #expect(try await third.get(timeout: 1).get(timeout: 1) == 3)
        #expect(try await pool.join(timeout: 1))
        #expect(pool.freeCount == 2)
    }

    @Test func mapKeepsInputOrderAndTheSizeLimit() async throws {
        let pool = Pool(size: 4)
        var running = 0, most = 0
        let results = try await pool.map(0..<50) { n in
            running += 1
            most = max(most, running)
            try await sleep(0.001 * Double(n % 3))
            running -= 1
            return n * n
        }
        #expect(results == (0..<50).map { $0 * $0 })
        #expect(most == 4)
        #expect(pool.count == 0)
    }

    /// Maps consumed by a task that is not a greenlet (`withTimeout`'s child): such a task
    /// may hop executors on its way to parking, and the workers may deliver the last
    /// result meanwhile; the consumer must still see it.
    @Test func mapConsumedOutsideAGreenletSeesResultsDeliveredWhileItParks() async throws {
        let results = try await withTimeout(10) {
            var results: [[Int]] = []
            for round in 0..<200 {
                results.append(try await Pool(size: 2).map([round]) { n in
                    for _ in 0..<(n % 6) { try await sleep(0) }
                    return n * 2
                })
            }
            return results
        }
        #expect(results == (0..<200).map { [$0 * 2] })
    }

    @Test func mapOfTrivialWorkUsesFewGreenlets() async throws {
        let pool = Pool(size: 100)
        let results = try await pool.map(0..<10_000) { $0 + 1 }
        #expect(results.count == 10_000)
        #expect(results.last == 10_000)
    }

    @Test func mapThrowsTheFirstErrorAndKillsTheRest() async throws {
        struct Boom: Error {}
        let pool = Pool(size: 3)
        await #expect(throws: Boom.self) {
            try await pool.map(0..<100) { n in
                if n == 1 { throw Boom() }
                try await sleep(10)
                return n
            }
        }
        #expect(try await pool.join(timeout: 1))
    }

    @Test func mapsReportProgressAfterEachCall() async throws {
        let pool = Pool(size: 4)
        var seen: [MapProgress] = []
        let results = try await pool.map(0..<20, progress: { seen.append($0) }) { n in
            try await sleep(0.001)
            return n
        }
        #expect(results == Array(0..<20))
        #expect(seen.map(\.done) == Array(1...20))
        #expect(seen.allSatisfy { $0.total == 20 && $0.failed == 0 })
        #expect((seen.last?.rate ?? 0) > 0)

        // An endless input has no total; a failure is counted before it ends the map.
        struct Boom: Error {}
        var last: MapProgress?
        await #expect(throws: Boom.self) {
            for try await _ in pool.imapUnordered(0..., progress: { last = $0 }, { n -> Int in
                if n == 5 { throw Boom() }
                return n
            }) {}
        }
        #expect(last?.total == nil && last?.failed == 1)
    }

    @Test func imapIsOrderedLazyAndWorksOnEndlessInput() async throws {
        let pool = Pool(size: 8)
        var read = 0
        let endless = (0...).lazy.map { n -> Int in
            read += 1
            return n
        }
        var got: [Int] = []
        for try await value in pool.imap(endless, maxPending: 16, { n -> Int in
            try await sleep(0.0001 * Double(7 - n % 8))
            return n * 2
        }) {
            got.append(value)
            if got.count == 100 { break }
        }
        #expect(got == (0..<100).map { $0 * 2 })
        // Bounded: the input was read only a window ahead of the consumer.
        #expect(read <= 100 + 16 + 1)
    }

    @Test func imapUnorderedYieldsAsResultsComeAndStopsOnBreak() async throws {
        let pool = Pool(size: 10)
        // Even items wait for an event nobody sets, so only odd ones can come out — in
        // whatever order they finish, however slow the machine.
        let neverSet = Event()
        var got: [Int] = []
        for try await n in pool.imapUnordered(0..., { n -> Int in
            if n % 2 == 0 { _ = try await neverSet.wait() } else { try await sleep(0.001) }
            return n
        }) {
            got.append(n)
            if got.count == 5 { break }
        }
        #expect(got.allSatisfy { $0 % 2 == 1 })
        // Breaking out dropped the sequence: its workers are killed.
        #expect(try await pool.join(timeout: 2))
    }
}
