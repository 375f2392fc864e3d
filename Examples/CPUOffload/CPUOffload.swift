import ArgumentParser
import Sprout
import SproutExamplesSupport

/// `cpu-offload`: greenlets versus threads versus processes on one CPU-heavy workload,
/// measured while the hub has other work to do (a 10 ms timer and an HTTP server under
/// a steady load from another process).
struct CPUOffload: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cpu-offload",
        abstract: "Count primes inline on the hub, with sleep(0), on threads and in a process pool; measure the hub meanwhile.",
        discussion: """
            Each mode runs the whole workload repeatedly for at least --duration seconds while a \
            probe greenlet sleeps 10 ms at a time (recording how late it wakes) and a separate \
            client process sends HTTP requests at --rate per second to a server on the hub. \
            The baseline is a plain loop with no hub. Prints a table, writes an SVG chart and \
            closes with a verdict drawn from the numbers.
            """
    )

    @Option(help: "Count the primes below this number (one round of work).")
    var size = 4_000_000

    @Option(help: "Pieces the work is split into.")
    var pieces = 8

    @Option(help: "Worker processes, and threads in the thread mode (default: the number of CPUs).")
    var workers: Int?

    @Option(help: "Modes to run, comma-separated: \(OffloadMode.allCases.map(\.rawValue).joined(separator: ",")). The baseline always runs.")
    var modes = OffloadMode.allCases.map(\.rawValue).joined(separator: ",")

    @Option(help: "Seconds each mode runs at least.")
    var duration = 5.0

    @Option(help: "HTTP requests per second from the load client.")
    var rate = 200.0

    @Option(help: "Niceness of the pool's worker processes (0: normal priority).")
    var nice: Int32 = 10

    @Option(help: "Where the SVG chart goes.")
    var output = "cpu-offload.svg"

    @Option(help: "Also write the rows as tab-separated values to this file (for bench/compare/cpu_offload.sh).")
    var rows: String?

    func validate() throws {
        guard size > 2, pieces > 0, duration > 0, rate > 0, (workers ?? 1) > 0, (0...19).contains(nice) else {
            throw ValidationError("size > 2, pieces > 0, duration > 0, rate > 0, workers > 0 and nice in 0...19, please")
        }
        _ = try selectedModes()
    }

    func run() throws {
        let experiment = OffloadExperiment(workload: PrimeWorkload(limit: size, pieces: pieces),
                                           workers: workers ?? ProcessPool.cpuCount,
                                           duration: duration, rate: rate, nice: nice)
        let modes = try selectedModes()
        let report = try Hub.run { try await OffloadRun.run(experiment, modes: modes) }
        let title = "Sprout CPU offload: primes below \(size) in \(pieces) pieces, \(experiment.workers) workers"
        try OffloadChart.write(report, title: title, to: output)
        if let rows { try writeTextFile(report.rows, to: rows) }
        print("\nchart: \(output)")
    }

    private func selectedModes() throws -> [OffloadMode] {
        var selected: [OffloadMode] = [.baseline]
        for name in modes.split(separator: ",") {
            guard let mode = OffloadMode(rawValue: name.trimmingCharacters()) else {
                throw ValidationError("unknown mode '\(name)'; choose from \(OffloadMode.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            if !selected.contains(mode) { selected.append(mode) }
        }
        return selected
    }
}

extension Substring {
    fileprivate func trimmingCharacters() -> String {
        String(drop { $0 == " " }.reversed().drop { $0 == " " }.reversed())
    }
}
