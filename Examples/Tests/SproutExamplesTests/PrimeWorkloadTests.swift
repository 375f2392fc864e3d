import SproutExamplesSupport
import Testing

@Suite(.timeLimit(.minutes(1)))
struct PrimeWorkloadTests {
    @Test func piecesAreContiguousAndCoverEveryNumber() {
        let workload = PrimeWorkload(limit: 1_000_000, pieces: 8)
        #expect(workload.ranges.count == 8)
        #expect(workload.ranges.first?.lowerBound == 0)
        #expect(workload.ranges.last?.upperBound == 1_000_000)
        for (previous, next) in zip(workload.ranges, workload.ranges.dropFirst()) {
            #expect(previous.upperBound == next.lowerBound)
            // Equal cost means ever narrower ranges as the numbers grow.
            #expect(previous.count > next.count)
        }
    }

    @Test func countsThePrimesBelowAHundredThousand() {
        let workload = PrimeWorkload(limit: 100_000, pieces: 5)
        let counts = workload.jobs.map { $0.run() }
        #expect(counts.reduce(0, +) == 9592)
        #expect(countPrimes(from: 0, to: 10) == 4)
        #expect(countPrimes(from: 2, to: 3) == 1)
    }

    @Test func checksumMatchesThePythonPeer() {
        // bench/compare/peers/cpu_offload.py --size 50000 (8 pieces) printed this checksum.
        let workload = PrimeWorkload(limit: 50_000, pieces: 8)
        let checksum = PrimeWorkload.checksum(workload.jobs.map { $0.run() })
        #expect(PrimeWorkload.checksumText(checksum) == "86da4ff2c6f3ff5f")
    }

    @Test func checksumDependsOnEveryPieceAndItsPlace() {
        #expect(PrimeWorkload.checksum([1, 2]) != PrimeWorkload.checksum([2, 1]))
        #expect(PrimeWorkload.checksum([1, 2]) != PrimeWorkload.checksum([1, 3]))
        #expect(PrimeWorkload.checksumText(0x1) == "0000000000000001")
    }
}
