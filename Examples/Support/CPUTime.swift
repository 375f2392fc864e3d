import Glibc

/// CPU seconds (user + system) spent by this process, all threads.
public func processCPUSeconds() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec)
        + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
}

/// CPU seconds (user + system) spent so far by the running process `pid`, from
/// `/proc/PID/stat` (clock ticks, usually 10 ms); 0 if it cannot be read.
public func processCPUSeconds(pid: Int32) -> Double {
    let file = fopen("/proc/\(pid)/stat", "r")
    guard let file else { return 0 }
    defer { fclose(file) }
    var buffer = [CChar](repeating: 0, count: 1024)
    guard fgets(&buffer, Int32(buffer.count), file) != nil else { return 0 }
    let line = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    // The command name (field 2) may hold spaces; fields after its closing parenthesis
    // start at field 3, so utime and stime (fields 14 and 15) are at 11 and 12 here.
    guard let close = line.lastIndex(of: ")") else { return 0 }
    let fields = line[line.index(after: close)...].split(separator: " ")
    guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { return 0 }
    return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
}
