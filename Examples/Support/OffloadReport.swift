/// The table and the verdict of an offload comparison, drawn from its measurements.
public struct OffloadReport: Sendable {
    /// What ran.
    public let experiment: OffloadExperiment
    /// One per mode, in the order they ran.
    public let measurements: [OffloadMeasurement]

    /// A report over `measurements`.
    public init(experiment: OffloadExperiment, measurements: [OffloadMeasurement]) {
        self.experiment = experiment
        self.measurements = measurements
    }

    /// Goals the process pool is held to (the project's issue 8).
    public static let speedupGoal = 1.9
    /// Hub lateness p99 that counts as responsive, in nanoseconds.
    public static let p99Goal: UInt64 = 1_000_000
    /// Worst hub lateness that counts as responsive, in nanoseconds.
    public static let maxGoal: UInt64 = 5_000_000

    var baseline: OffloadMeasurement? { measurements.first { $0.mode == .baseline } }

    /// Wall-time speedup of `measurement` over the baseline, if there is one.
    public func speedup(_ measurement: OffloadMeasurement) -> Double? {
        guard let baseline else { return nil }
        return baseline.wallSeconds / measurement.wallSeconds
    }

    /// True when the hub stayed responsive under `measurement`'s mode.
    public static func responsive(_ lateness: LatencySummary?) -> Bool {
        guard let lateness else { return false }
        return lateness.p99 < p99Goal && lateness.max < maxGoal
    }

    /// The table, one line per mode.
    public var table: String {
        let header = ["mode", "rounds", "wall/round", "speedup", "CPU/round", "hub wakes", "late p50", "p99", "max", "HTTP ok/sent", "HTTP p99", "checksum"]
        var rows: [[String]] = [header]
        for measurement in measurements {
            let late = measurement.lateness
            rows.append([
                measurement.mode.label,
                String(measurement.rounds),
                formatDecimal(measurement.wallSeconds, places: 3) + " s",
                speedup(measurement).map { formatDecimal($0, places: 2) + "x" } ?? "-",
                formatDecimal(measurement.cpuSeconds, places: 3) + " s",
                late.map { String($0.count) } ?? "-",
                late.map { formatMilliseconds($0.p50) + " ms" } ?? "-",
                late.map { formatMilliseconds($0.p99) + " ms" } ?? "-",
                late.map { formatMilliseconds($0.max) + " ms" } ?? "-",
                measurement.http.map { "\($0.answered)/\($0.sent)" } ?? (measurement.mode.usesHub ? "failed" : "-"),
                measurement.http.map { formatMilliseconds($0.latency.p99) + " ms" } ?? "-",
                measurement.checksum.map { PrimeWorkload.checksumText($0) } ?? "DIFFERS",
            ])
        }
        let widths = header.indices.map { column in rows.map { $0[column].count }.max() ?? 0 }
        return rows.enumerated().map { index, row in
            let line = row.enumerated().map { column, cell in
                let pad = String(repeating: " ", count: widths[column] - cell.count)
                return column == 0 ? cell + pad : pad + cell
            }.joined(separator: "  ")
            return index == 0 ? line + "\n" + String(repeating: "-", count: line.count) : line
        }.joined(separator: "\n")
    }

    /// One tab-separated line per mode — label, speedup, CPU s/round, hub lateness p99 and
    /// max (ns), HTTP answered, sent and p99 (ns), checksum — the format
    /// `bench/compare/cpu_offload.sh` puts beside the Python peer's.
    public var rows: String {
        measurements.map { measurement in
            let late = measurement.lateness
            let http = measurement.http
            return [
                measurement.mode.label,
                speedup(measurement).map { formatDecimal($0, places: 2) } ?? "-",
                formatDecimal(measurement.cpuSeconds, places: 3),
                String(late?.p99 ?? 0), String(late?.max ?? 0),
                String(http?.answered ?? 0), String(http?.sent ?? 0), String(http?.latency.p99 ?? 0),
                measurement.checksum.map { PrimeWorkload.checksumText($0) } ?? "DIFFERS",
            ].joined(separator: "\t") + "\n"
        }.joined()
    }

    /// What the numbers say, as sentences: drawn from this run's measurements.
    public var verdict: [String] {
        var lines: [String] = []
        let checksums = Set(measurements.map { $0.checksum })
        if checksums.count == 1, let only = checksums.first, let checksum = only {
            lines.append("Every mode computed the same answer (checksum \(PrimeWorkload.checksumText(checksum))).")
        } else {
            lines.append("The modes did NOT all compute the same answer: a mode is broken.")
        }
        func find(_ mode: OffloadMode) -> OffloadMeasurement? { measurements.first { $0.mode == mode } }
        func x(_ measurement: OffloadMeasurement) -> String { speedup(measurement).map { formatDecimal($0, places: 2) + "x" } ?? "?" }
        func worst(_ measurement: OffloadMeasurement) -> String { measurement.lateness.map { formatMilliseconds($0.max) + " ms" } ?? "?" }
        func p99(_ measurement: OffloadMeasurement) -> String { measurement.lateness.map { formatMilliseconds($0.p99) + " ms" } ?? "?" }
        func http(_ measurement: OffloadMeasurement) -> String { measurement.http.map { formatMilliseconds($0.latency.p99) + " ms" } ?? "?" }

        if let inline = find(.inline) {
            let frozen = !Self.responsive(inline.lateness)
            lines.append("Inline on the hub: \(x(inline)); \(frozen ? "the hub froze" : "the hub still kept up") — its 10 ms timer woke up to \(worst(inline)) late and HTTP answers took \(http(inline)) (p99).")
        }
        if let yielding = find(.yielding) {
            var line = "sleep(0) between pieces: \(x(yielding)), worst stall \(worst(yielding))"
            if let inline = find(.inline), let a = inline.lateness, let b = yielding.lateness, b.max > 0 {
                line += a.max > b.max ? ", \(formatDecimal(Double(a.max) / Double(b.max), places: 1))x shorter than inline" : ", no better than inline"
            }
            lines.append(line + " — still one core, and every piece still blocks the hub while it runs.")
        }
        func pace(_ measurement: OffloadMeasurement) -> String {
            let value = speedup(measurement) ?? 0
            return value >= 1.5 ? "parallel" : value >= 1.1 ? "partly parallel" : "no faster than one core (other programs held the rest: \(machineLoadText()))"
        }
        if let threads = find(.threads) {
            let kept = Self.responsive(threads.lateness)
            lines.append("Threads (offloadBlocking): \(x(threads)), hub p99 \(p99(threads)), worst \(worst(threads)) — \(pace(threads)), \(kept ? "and the hub stayed responsive" : "and the hub felt it"); threads share the process's fate and a running one cannot be stopped.")
        }
        if let processes = find(.processes) {
            let kept = Self.responsive(processes.lateness)
            let niced = experiment.nice > 0 ? " (workers at nice \(experiment.nice))" : ""
            lines.append("Process pool\(niced): \(x(processes)), hub p99 \(p99(processes)), worst \(worst(processes)), HTTP p99 \(http(processes)) — \(pace(processes)), \(kept ? "and the hub stayed responsive" : "and the hub was late"); a worker is isolated and can be killed.")
            let speedupMet = (speedup(processes) ?? 0) >= Self.speedupGoal
            let p99Met = (processes.lateness?.p99 ?? .max) < Self.p99Goal
            let maxMet = (processes.lateness?.max ?? .max) < Self.maxGoal
            func mark(_ met: Bool) -> String { met ? "met" : "MISSED" }
            lines.append("Goals for the pool: speedup >= \(formatDecimal(Self.speedupGoal, places: 1))x \(mark(speedupMet)), hub p99 < 1 ms \(mark(p99Met)), worst < 5 ms \(mark(maxMet)).")
        }
        let hubModes = measurements.filter { $0.mode.usesHub }
        if let fastest = hubModes.max(by: { (speedup($0) ?? 0) < (speedup($1) ?? 0) }),
           let calmest = hubModes.min(by: { ($0.lateness?.max ?? .max) < ($1.lateness?.max ?? .max) }) {
            lines.append(fastest.mode == calmest.mode
                ? "Best on both counts: \(fastest.mode.label) — fastest (\(x(fastest))) and the calmest hub (worst \(worst(calmest)))."
                : "Fastest: \(fastest.mode.label) (\(x(fastest))); calmest hub: \(calmest.mode.label) (worst \(worst(calmest))).")
        }
        return lines
    }
}
