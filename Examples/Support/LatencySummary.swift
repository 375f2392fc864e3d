/// Percentiles of a set of latencies in nanoseconds (nearest rank).
public struct LatencySummary: Sendable, Codable {
    /// How many samples.
    public let count: Int
    /// The median, in nanoseconds.
    public let p50: UInt64
    /// The 99th percentile, in nanoseconds.
    public let p99: UInt64
    /// The largest sample, in nanoseconds.
    public let max: UInt64

    /// Summarises `samples`; all zero when there are none.
    public init(_ samples: [UInt64]) {
        let sorted = samples.sorted()
        count = sorted.count
        func rank(_ fraction: Double) -> UInt64 {
            guard !sorted.isEmpty else { return 0 }
            let index = Int((fraction * Double(sorted.count)).rounded(.up)) - 1
            return sorted[Swift.max(0, Swift.min(sorted.count - 1, index))]
        }
        p50 = rank(0.5)
        p99 = rank(0.99)
        max = sorted.last ?? 0
    }

    /// A summary of already computed figures.
    public init(count: Int, p50: UInt64, p99: UInt64, max: UInt64) {
        self.count = count
        self.p50 = p50
        self.p99 = p99
        self.max = max
    }
}

/// Nanoseconds as milliseconds with a precision that suits the size: `0.042`, `3.1`, `1250`.
public func formatMilliseconds(_ nanoseconds: UInt64) -> String {
    let value = Double(nanoseconds) / 1e6
    if value < 10 { return formatDecimal(value, places: value < 1 ? 3 : 2) }
    if value < 100 { return formatDecimal(value, places: 1) }
    return formatDecimal(value, places: 0)
}

/// `value` with `places` decimals, without Foundation.
public func formatDecimal(_ value: Double, places: Int) -> String {
    guard value.isFinite else { return "-" }
    var scale = 1.0
    for _ in 0..<places { scale *= 10 }
    let scaled = Int((abs(value) * scale).rounded())
    let whole = scaled / Int(scale)
    let sign = value < 0 && scaled != 0 ? "-" : ""
    guard places > 0 else { return sign + String(whole) }
    let fraction = String(scaled % Int(scale))
    return sign + String(whole) + "." + String(repeating: "0", count: places - fraction.count) + fraction
}
