import Glibc

/// CPU time the calling thread has used, in nanoseconds: what a test that holds the hub's
/// thread on purpose measures, since a loaded machine stretches wall time but not this.
public func threadCPUNanoseconds() -> UInt64 {
    var time = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &time)
    return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
}
