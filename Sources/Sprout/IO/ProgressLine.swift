import Glibc

/// A one-line progress display on standard error — done/total, percent, rate, time left
/// and failures, redrawn in place — for a long map, as joblib's `verbose` and tqdm give
/// Python users. It draws only when standard error is a terminal, so a program's logs and
/// pipes stay clean; it redraws at most ten times a second, and always for the last item.
///
/// ```swift
/// let progress = ProgressLine(label: "primes")
/// let counts = try await pool.map(jobs, progress: progress.update)
/// ```
///
/// The same works for a greenlet ``Pool``'s maps: `pool.map(urls, progress: line.update) { … }`.
@Hub
public final class ProgressLine {
    private let label: String
    private let output: Int32
    private let drawing: Bool
    private var lastDraw: UInt64 = 0
    private var ended = false

    /// A display labelled `label`, drawing on standard error if it is a terminal.
    public nonisolated init(label: String = "") {
        self.label = label
        output = STDERR_FILENO
        drawing = isatty(STDERR_FILENO) == 1
    }

    /// Redraws the line for `done` items of `total` (unknown when `nil`), `failed` of them
    /// failed, at `rate` items per second. Once `done` reaches `total` the line is drawn
    /// a last time and ended with a newline.
    public func update(done: Int, total: Int?, failed: Int, rate: Double) {
        guard drawing, !ended else { return }
        let now = monotonicNanoseconds()
        let finished = total.map { done >= $0 } ?? false
        guard finished || now &- lastDraw >= 100_000_000 else { return }
        lastDraw = now
        var line = label.isEmpty ? "" : "\(label): "
        if let total {
            let percent = total > 0 ? done * 100 / total : 100
            line += "\(done)/\(total) \(percent)%"
        } else {
            line += "\(done)"
        }
        line += " | \(Self.format(rate))/s"
        if let total, rate > 0, !finished {
            line += " | ETA \(Self.duration(Double(total - done) / rate))"
        }
        if failed > 0 { line += " | \(failed) failed" }
        // Back to the start of the line, the text, then erase what a longer line left.
        var bytes = Array("\r\(line)\u{1B}[K".utf8)
        if finished {
            bytes.append(10)
            ended = true
        }
        _ = bytes.withUnsafeBytes { write(output, $0.baseAddress, $0.count) }
    }

    /// Redraws the line for a map's progress — what the `progress:` of a ``Pool`` or
    /// ``ProcessPool`` map takes: `pool.map(jobs, progress: line.update)`.
    public func update(_ progress: MapProgress) {
        update(done: progress.done, total: progress.total, failed: progress.failed, rate: progress.rate)
    }

    /// Ends the line with a newline if it was drawn and not ended yet (a map that stopped
    /// early, or one over an input of unknown length).
    public func finish() {
        guard drawing, !ended, lastDraw != 0 else { return }
        ended = true
        _ = write(output, "\n", 1)
    }

    private static func format(_ rate: Double) -> String {
        rate >= 100 ? "\(Int(rate.rounded()))" : "\(Double(Int(rate * 10)) / 10)"
    }

    private static func duration(_ seconds: Double) -> String {
        let whole = Int(seconds.rounded(.up))
        return whole >= 60 ? "\(whole / 60)m\(whole % 60)s" : "\(whole)s"
    }
}
