import SproutExamplesSupport

/// The demo's closing words for a newcomer, drawn from this run's numbers: what switched
/// on I/O, what went to processes, and what that bought.
struct DemoVerdict {
    let fetch: FetchDemo.Result
    let report: OffloadReport

    var lines: [String] {
        var lines: [String] = []
        lines.append("Waiting: \(fetch.pages) pages that each take \(Int(fetch.delay * 1000)) ms came in \(seconds(fetch.sequential)) one after another and in \(seconds(fetch.concurrent)) all at once "
            + "(\(formatDecimal(fetch.speedup, places: 1))x). Each greenlet switched away while it waited on the network; one thread did it all.")
        func find(_ mode: OffloadMode) -> OffloadMeasurement? { report.measurements.first { $0.mode == mode } }
        if let inline = find(.inline), let late = inline.lateness {
            let http = inline.http.map { ", and web requests waited up to \(formatMilliseconds($0.latency.p99)) ms (p99)" } ?? ""
            lines.append("Computing on the hub itself froze it: a 10 ms timer woke up to \(formatMilliseconds(late.max)) ms late\(http). Greenlets only switch when they wait; CPU work never waits.")
        }
        if let processes = find(.processes), let late = processes.lateness, let speedup = report.speedup(processes) {
            let same = Set(report.measurements.map(\.checksum)).count == 1 ? "the same answer" : "an answer (the checksums differ: a bug)"
            let calm = OffloadReport.responsive(late)
                ? "the hub never stalled more than \(formatMilliseconds(late.max)) ms"
                : "the hub's worst stall was \(formatMilliseconds(late.max)) ms (\(machineLoadText()))"
            let pace = speedup >= 1.1
                ? "came \(formatDecimal(speedup, places: 2))x faster than one plain loop"
                : "came no faster than one plain loop (\(formatDecimal(speedup, places: 2))x: other programs held the other core — \(machineLoadText()))"
            lines.append("Sent to \(report.experiment.workers) worker processes, \(same) \(pace), and \(calm) (p99 \(formatMilliseconds(late.p99)) ms).")
        }
        if let threads = find(.threads), let speedup = report.speedup(threads) {
            lines.append("Threads reached \(formatDecimal(speedup, places: 2))x (Swift has no GIL), but a thread shares the process's fate: it cannot be killed midway, and a crash takes everything down. A worker process can be killed and replaced.")
        }
        lines.append("So: greenlets for waiting, processes for computing.")
        return lines
    }

    private func seconds(_ value: Double) -> String { formatDecimal(value, places: 2) + " s" }
}
