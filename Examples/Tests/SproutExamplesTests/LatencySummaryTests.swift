import SproutExamplesSupport
import SproutTestSupport
import Testing

@Suite(.timeLimit(.minutes(1)))
struct LatencySummaryTests {
    @Test func nearestRankPercentiles() {
        var generator = SplitMix64(seed: testSeed())
        let summary = LatencySummary((1...100).map { UInt64($0) }.shuffled(using: &generator))
        #expect(summary.count == 100)
        #expect(summary.p50 == 50)
        #expect(summary.p99 == 99)
        #expect(summary.max == 100)
    }

    @Test func noSamplesIsAllZero() {
        let summary = LatencySummary([])
        #expect(summary.count == 0 && summary.p50 == 0 && summary.p99 == 0 && summary.max == 0)
    }

    @Test func millisecondsKeepThreeSignificantFigures() {
        #expect(formatMilliseconds(42_000) == "0.042")
        #expect(formatMilliseconds(1_234_567) == "1.23")
        #expect(formatMilliseconds(56_300_000) == "56.3")
        #expect(formatMilliseconds(1_250_000_000) == "1250")
        #expect(formatDecimal(-0.004, places: 2) == "0.00")
        #expect(formatDecimal(2.005, places: 1) == "2.0")
    }
}
