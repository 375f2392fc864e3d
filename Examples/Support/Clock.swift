import Glibc

/// Nanoseconds on the monotonic clock (the clock the hub's timers read), for timing the
/// examples.
public func monotonicNanoseconds() -> UInt64 {
    var time = timespec()
    clock_gettime(CLOCK_MONOTONIC, &time)
    return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
}

/// Seconds on the monotonic clock, for timing the examples.
public func monotonicSeconds() -> Double {
    Double(monotonicNanoseconds()) / 1e9
}

/// Whole milliseconds since `start` (a ``monotonicSeconds()`` reading).
public func milliseconds(since start: Double) -> Int {
    Int(((monotonicSeconds() - start) * 1000).rounded())
}
