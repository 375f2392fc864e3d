#if canImport(Glibc)
import Glibc
#endif

/// SPROUT_TIMING_SLACK (default 1): how much longer than on a quiet machine the tests
/// allow for anything they time — a wake-up's lateness, a deadline, a heavy test's time
/// limit. The sanitizer runs and slow or loaded machines raise it.
public let timingSlack: Double = {
    guard let text = getenv("SPROUT_TIMING_SLACK"), let slack = Double(String(cString: text)), slack >= 1 else {
        return 1
    }
    return slack
}()

/// `seconds` stretched by ``timingSlack``: the bound a test asserts on.
public func slack(_ seconds: Double) -> Double { seconds * timingSlack }

/// `nanoseconds` stretched by ``timingSlack``: the bound a test asserts on.
public func slack(nanoseconds: UInt64) -> UInt64 { UInt64(Double(nanoseconds) * timingSlack) }
