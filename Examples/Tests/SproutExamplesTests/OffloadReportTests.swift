@testable import SproutExamplesSupport
import Testing

private func measurement(_ mode: OffloadMode, wall: Double, p99: UInt64 = 0, max: UInt64 = 0, checksum: UInt64 = 7) -> OffloadMeasurement {
    let late = mode.usesHub ? LatencySummary(count: 500, p50: p99 / 2, p99: p99, max: max) : nil
    let http = mode.usesHub ? LoadClient.Result(sent: 1000, answered: 1000, latency: LatencySummary(count: 1000, p50: 1, p99: p99, max: max)) : nil
    return OffloadMeasurement(mode: mode, rounds: 5, wallSeconds: wall, cpuSeconds: 1, checksum: checksum, lateness: late, http: http)
}

private let experiment = OffloadExperiment(workload: PrimeWorkload(limit: 1000, pieces: 4), workers: 2, duration: 1, rate: 200, nice: 10)

@Suite(.timeLimit(.minutes(1)))
struct OffloadReportTests {
    @Test func verdictFollowsTheNumbers() {
        let good = OffloadReport(experiment: experiment, measurements: [
            measurement(.baseline, wall: 1.0),
            measurement(.inline, wall: 1.0, p99: 900_000_000, max: 1_000_000_000),
            measurement(.processes, wall: 0.5, p99: 400_000, max: 2_000_000),
        ])
        let text = good.verdict.joined(separator: "\n")
        #expect(text.contains("same answer"))
        #expect(text.contains("the hub froze"))
        #expect(text.contains("speedup >= 1.9x met, hub p99 < 1 ms met, worst < 5 ms met"))
        #expect(text.contains("Best on both counts: process pool"))

        let slow = OffloadReport(experiment: experiment, measurements: [
            measurement(.baseline, wall: 1.0),
            measurement(.processes, wall: 0.8, p99: 3_000_000, max: 9_000_000, checksum: 8),
        ])
        let slowText = slow.verdict.joined(separator: "\n")
        #expect(slowText.contains("NOT all compute the same answer"))
        #expect(slowText.contains("speedup >= 1.9x MISSED, hub p99 < 1 ms MISSED, worst < 5 ms MISSED"))
        #expect(slow.speedup(slow.measurements[1]) == 1.25)
    }

    @Test func tableAndRowsHaveOneLinePerMode() {
        let report = OffloadReport(experiment: experiment, measurements: [
            measurement(.baseline, wall: 1.0),
            measurement(.threads, wall: 0.5, p99: 1_500_000, max: 3_000_000),
        ])
        let lines = report.table.split(separator: "\n")
        #expect(lines.count == 4)
        #expect(lines[2].hasPrefix("baseline (no hub)"))
        #expect(lines[3].contains("2.00x") && lines[3].contains("1.50 ms") && lines[3].contains("1000/1000"))
        let rows = report.rows.split(separator: "\n").map { $0.split(separator: "\t", omittingEmptySubsequences: false) }
        #expect(rows.count == 2)
        #expect(rows[1] == ["thread offload", "2.00", "1.000", "1500000", "3000000", "1000", "1000", "1500000", "0000000000000007"])
    }

    @Test func chartIsOneSVGWithEveryMode() {
        let report = OffloadReport(experiment: experiment, measurements: [
            measurement(.baseline, wall: 1.0),
            measurement(.yielding, wall: 1.1, p99: 40_000_000, max: 90_000_000),
            measurement(.processes, wall: 0.52, p99: 300_000, max: 1_200_000),
        ])
        let svg = OffloadChart.svg(report, title: "a <test> & more")
        #expect(svg.hasPrefix("<svg "))
        #expect(svg.hasSuffix("</svg>\n"))
        #expect(svg.contains("a &lt;test&gt; &amp; more"))
        for mode in report.measurements.map(\.mode) { #expect(svg.contains(">\(mode.label)<")) }
        #expect(!svg.contains("nan") && !svg.contains("inf"))
    }

    @Test func loadClientLineParses() {
        let result = LoadClient.parse(Array("noise\nLOAD 10 9 100 200 300\n".utf8))
        #expect(result?.sent == 10)
        #expect(result?.answered == 9)
        #expect(result?.latency.p99 == 200)
        #expect(LoadClient.parse(Array("LOAD 1 2\n".utf8)) == nil)
    }
}
