import Glibc

/// Seconds on the monotonic clock, for timing the examples.
public func monotonicSeconds() -> Double {
    var time = timespec()
    clock_gettime(CLOCK_MONOTONIC, &time)
    return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
}

/// Whole milliseconds since `start` (a ``monotonicSeconds()`` reading).
public func milliseconds(since start: Double) -> Int {
    Int(((monotonicSeconds() - start) * 1000).rounded())
}
