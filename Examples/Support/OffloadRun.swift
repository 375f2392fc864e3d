import Sprout

/// Runs an ``OffloadExperiment`` mode by mode and prints the progress, the table and the
/// verdict. Shared by `cpu-offload` and `sprout-demo`.
public enum OffloadRun {
    /// Runs `modes` (the baseline first) inside ``Hub/run(_:)``, printing as it goes, and
    /// returns the report.
    ///
    /// - Throws: what ``OffloadExperiment/run(_:)`` throws; `CancellationError` if killed.
    @Hub
    public static func run(_ experiment: OffloadExperiment, modes: [OffloadMode]) async throws -> OffloadReport {
        // The inline modes block the hub on purpose and the probe measures it; the blocking
        // monitor would only repeat that on stderr.
        let threshold = Hub.blockingThreshold
        Hub.blockingThreshold = nil
        defer { Hub.blockingThreshold = threshold }
        let ordered = [OffloadMode.baseline] + modes.filter { $0 != .baseline }
        let workload = experiment.workload
        print("""
            Counting the primes below \(workload.limit) in \(workload.ranges.count) pieces, each mode for at least \
            \(formatDecimal(experiment.duration, places: 1)) s, with \(experiment.workers) workers\
            \(experiment.nice > 0 ? " (pool workers at nice \(experiment.nice), below the hub)" : "").
            Meanwhile a greenlet sleeps 10 ms at a time and records how late it wakes, and a separate
            process fetches from an HTTP server on the hub \(Int(experiment.rate)) times a second.
            Machine: \(machineLoadText()) before the run.

            """)
        var measurements: [OffloadMeasurement] = []
        for mode in ordered {
            print("  \(mode.label)...")
            let measurement = try await experiment.run(mode)
            measurements.append(measurement)
        }
        let report = OffloadReport(experiment: experiment, measurements: measurements)
        print("\n" + report.table + "\n(machine: \(machineLoadText()) after the run)\n")
        for line in report.verdict { print(line) }
        return report
    }
}
