#if canImport(Glibc)
import Glibc
#endif

/// One benchmark the comparison harness can run: `sprout-bench NAME ARGS...` prints
/// `RESULT <number>` in the unit the workload's JSON entry names.
struct Workload: Sendable {
    let name: String
    let usage: String
    let run: @Sendable ([String]) throws -> Void
}

/// Prints the figure the harness reads.
func report(_ value: Double) {
    print("RESULT \(value)")
}

/// Seconds on the monotonic clock.
func now() -> Double {
    var time = timespec()
    clock_gettime(CLOCK_MONOTONIC, &time)
    return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
}

/// Resident set size of this process, in bytes.
func residentBytes() -> Double {
    guard let file = fopen("/proc/self/statm", "r") else { return 0 }
    defer { fclose(file) }
    var size = 0, resident = 0
    withUnsafeMutablePointer(to: &size) { sizePointer in
        withUnsafeMutablePointer(to: &resident) { residentPointer in
            _ = withVaList([sizePointer, residentPointer]) { vfscanf(file, "%ld %ld", $0) }
        }
    }
    return Double(resident) * Double(sysconf(Int32(_SC_PAGESIZE)))
}

/// The integer argument at `index`, or `fallback`.
func intArgument(_ arguments: [String], _ index: Int, _ fallback: Int) -> Int {
    arguments.count > index ? Int(arguments[index]) ?? fallback : fallback
}
