import Glibc

/// The offload comparison as an SVG chart, written by hand (no dependencies): one row per
/// mode and three panels — speedup over the baseline, hub wake-up lateness (p99 bar, worst
/// as a tick, log scale) and HTTP latency p99 (log scale).
public enum OffloadChart {
    /// The SVG document for `report`.
    public static func svg(_ report: OffloadReport, title: String) -> String {
        let rows = report.measurements
        let rowHeight = 34.0, top = 78.0, labelWidth = 150.0, panelWidth = 300.0, gap = 20.0
        // Bars use 60 % of a panel; their value labels go in the rest.
        let span = panelWidth * 0.6
        let height = top + Double(rows.count) * rowHeight + 52
        let width = labelWidth + 3 * panelWidth + 3 * gap + 10
        var svg = """
            <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(height))" viewBox="0 0 \(Int(width)) \(Int(height))" font-family="sans-serif" font-size="12">
            <rect width="100%" height="100%" fill="white"/>
            <text x="10" y="22" font-size="15" font-weight="bold">\(escape(title))</text>

            """
        let maxSpeedup = max(2.2, rows.compactMap { report.speedup($0) }.max() ?? 1)
        // Log scale from 10 µs to the largest figure, in nanoseconds.
        let lateMax = Double(max(rows.compactMap { $0.lateness?.max }.max() ?? 1, 10_000_000))
        let httpMax = Double(max(rows.compactMap { $0.http?.latency.p99 }.max() ?? 1, 10_000_000))
        let panels: [(String, Double)] = [
            ("speedup over the baseline", labelWidth),
            ("hub lateness ms: p99 bar, worst tick (log)", labelWidth + panelWidth + gap),
            ("HTTP p99 ms, answered/sent (log)", labelWidth + 2 * (panelWidth + gap)),
        ]
        for (name, x) in panels {
            svg += "<text x=\"\(x)\" y=\"\(top - 22)\" font-weight=\"bold\">\(escape(name))</text>\n"
            svg += "<line x1=\"\(x)\" y1=\"\(top - 8)\" x2=\"\(x)\" y2=\"\(top + Double(rows.count) * rowHeight)\" stroke=\"#888\"/>\n"
        }
        let speedX = panels[0].1, lateX = panels[1].1, httpX = panels[2].1
        // Reference lines: 1x and the 1.9x goal; 1 ms and 5 ms lateness.
        for (value, label) in [(1.0, "1x"), (OffloadReport.speedupGoal, "goal")] {
            let x = speedX + value / maxSpeedup * span
            svg += referenceLine(x: x, top: top, rows: rows.count, rowHeight: rowHeight, label: label)
        }
        for (value, label, lower) in [(OffloadReport.p99Goal, "1 ms", false), (OffloadReport.maxGoal, "5 ms", true)] {
            let x = lateX + logPosition(Double(value), upTo: lateMax) * span
            svg += referenceLine(x: x, top: top, rows: rows.count, rowHeight: rowHeight, label: label, lower: lower)
        }
        let colors: [OffloadMode: String] = [.baseline: "#9e9e9e", .inline: "#d9534f", .yielding: "#f0ad4e", .threads: "#5bc0de", .processes: "#5cb85c"]
        for (index, row) in rows.enumerated() {
            let y = top + Double(index) * rowHeight
            let color = colors[row.mode] ?? "#777"
            svg += "<text x=\"10\" y=\"\(y + 21)\">\(escape(row.mode.label))</text>\n"
            if let speedup = report.speedup(row) {
                let barWidth = speedup / maxSpeedup * span
                svg += bar(x: speedX, y: y, width: barWidth, color: color, text: formatDecimal(speedup, places: 2) + "x")
            }
            if let late = row.lateness {
                let barWidth = logPosition(Double(late.p99), upTo: lateMax) * span
                let tick = lateX + logPosition(Double(late.max), upTo: lateMax) * span
                svg += bar(x: lateX, y: y, width: barWidth, color: color, text: formatMilliseconds(late.p99) + " | " + formatMilliseconds(late.max),
                           textAt: max(lateX + barWidth, tick + 1))
                svg += "<line x1=\"\(tick)\" y1=\"\(y + 5)\" x2=\"\(tick)\" y2=\"\(y + 29)\" stroke=\"black\" stroke-width=\"2\"/>\n"
            } else {
                svg += "<text x=\"\(lateX + 6)\" y=\"\(y + 21)\" fill=\"#888\">no hub</text>\n"
            }
            if let http = row.http {
                let barWidth = logPosition(Double(http.latency.p99), upTo: httpMax) * span
                svg += bar(x: httpX, y: y, width: barWidth, color: color, text: formatMilliseconds(http.latency.p99) + ", \(http.answered)/\(http.sent)")
            } else {
                svg += "<text x=\"\(httpX + 6)\" y=\"\(y + 21)\" fill=\"#888\">\(row.mode.usesHub ? "client failed" : "no server")</text>\n"
            }
        }
        let footer = "workers \(report.experiment.workers), \(report.experiment.workload.ranges.count) pieces, primes below \(report.experiment.workload.limit), \(formatDecimal(report.experiment.duration, places: 1)) s per mode, HTTP \(Int(report.experiment.rate)) req/s"
            + (report.experiment.nice > 0 ? ", pool workers at nice \(report.experiment.nice)" : "") + "; \(machineLoadText())"
        svg += "<text x=\"10\" y=\"\(height - 14)\" fill=\"#555\">\(escape(footer))</text>\n</svg>\n"
        return svg
    }

    /// Writes the chart for `report` to `path`.
    ///
    /// - Throws: ``FileWriteError`` if the file cannot be written.
    public static func write(_ report: OffloadReport, title: String, to path: String) throws(FileWriteError) {
        try writeTextFile(svg(report, title: title), to: path)
    }

    /// Where `value` (nanoseconds) sits between 10 µs and `upTo`, from 0 to 1.
    private static func logPosition(_ value: Double, upTo: Double) -> Double {
        let low = log10(10_000.0), high = log10(max(upTo, 20_000))
        return min(1, max(0.01, (log10(max(value, 10_000)) - low) / (high - low)))
    }

    /// A bar from `x`, `width` wide, its `text` after it (or after `textAt`, when given).
    private static func bar(x: Double, y: Double, width: Double, color: String, text: String, textAt: Double? = nil) -> String {
        "<rect x=\"\(x)\" y=\"\(y + 7)\" width=\"\(max(1, width))\" height=\"20\" fill=\"\(color)\"/>\n"
            + "<text x=\"\((textAt ?? x + max(1, width)) + 4)\" y=\"\(y + 21)\">\(escape(text))</text>\n"
    }

    /// A dashed vertical line at `x` with `label` under it (`lower` labels sit one line
    /// further down, so two close lines stay readable).
    private static func referenceLine(x: Double, top: Double, rows: Int, rowHeight: Double, label: String, lower: Bool = false) -> String {
        "<line x1=\"\(x)\" y1=\"\(top - 6)\" x2=\"\(x)\" y2=\"\(top + Double(rows) * rowHeight)\" stroke=\"#bbb\" stroke-dasharray=\"4 3\"/>\n"
            + "<text x=\"\(x)\" y=\"\(top + Double(rows) * rowHeight + (lower ? 24 : 12))\" fill=\"#777\" font-size=\"10\" text-anchor=\"middle\">\(escape(label))</text>\n"
    }

    private static func escape(_ text: String) -> String {
        var escaped = ""
        for character in text {
            switch character {
            case "&": escaped += "&amp;"
            case "<": escaped += "&lt;"
            case ">": escaped += "&gt;"
            default: escaped.append(character)
            }
        }
        return escaped
    }
}
