import Glibc

/// One benchmark the comparison harness can run: `sprout-bench NAME ARGS...` (or
/// `sprout-bench-pool NAME ARGS...`) prints `RESULT <number>` in the unit the workload's
/// JSON entry names.
public struct Workload: Sendable {
    /// What the harness passes as the first argument.
    public let name: String
    /// One line for the program's usage text: the name, its arguments, what it prints.
    public let usage: String
    /// Runs the workload with the arguments after its name.
    ///
    /// - Throws: whatever the workload throws; the program then exits with the error.
    public let run: @Sendable ([String]) throws -> Void

    /// A workload called `name`, described by `usage`, that `run` carries out.
    public init(name: String, usage: String, run: @escaping @Sendable ([String]) throws -> Void) {
        self.name = name
        self.usage = usage
        self.run = run
    }
}

/// Runs the workload the command line names with the arguments after it, or prints the
/// usage of every one in `workloads` and exits with status 2.
///
/// - Throws: what the workload throws.
public func runWorkload(from workloads: [Workload]) throws {
    let arguments = Array(CommandLine.arguments.dropFirst())
    guard let name = arguments.first, let workload = workloads.first(where: { $0.name == name }) else {
        print("usage: \(CommandLine.arguments[0]) WORKLOAD [ARGS...]\n")
        for workload in workloads { print("  " + workload.usage) }
        exit(2)
    }
    try workload.run(Array(arguments.dropFirst()))
}

/// Prints the figure the harness reads.
public func report(_ value: Double) {
    print("RESULT \(value)")
}

/// Seconds on the monotonic clock.
public func now() -> Double {
    var time = timespec()
    clock_gettime(CLOCK_MONOTONIC, &time)
    return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
}

/// Resident set size of this process, in bytes.
public func residentBytes() -> Double {
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
public func intArgument(_ arguments: [String], _ index: Int, _ fallback: Int) -> Int {
    arguments.count > index ? Int(arguments[index]) ?? fallback : fallback
}
