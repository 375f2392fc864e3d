import Glibc

/// The `Date` header line an origin server sends (RFC 9110, 6.6.1), in IMF-fixdate form
/// (`Date: Sun, 06 Nov 1994 08:49:37 GMT`), formatted at most once per second.
struct HTTPDateLine {
    private var second = time_t(-1)
    private var line: [UInt8] = []

    /// Appends the line for the current second, with its CRLF, to `out`.
    mutating func append(to out: inout [UInt8]) {
        let now = time(nil)
        if now != second {
            second = now
            line = Self.format(now)
        }
        out.append(contentsOf: line)
    }

    static func format(_ seconds: time_t) -> [UInt8] {
        var seconds = seconds
        var parts = tm()
        gmtime_r(&seconds, &parts)
        let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        let text = "Date: \(days[Int(parts.tm_wday)]), \(two(parts.tm_mday)) \(months[Int(parts.tm_mon)]) \(parts.tm_year + 1900) "
            + "\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec)) GMT\r\n"
        return Array(text.utf8)
    }
}
