import Glibc

/// The machine's 1-minute load average and CPU count, as one phrase — timings on a shared
/// machine mean little without it.
public func machineLoadText() -> String {
    var averages = [Double](repeating: 0, count: 3)
    let load = getloadavg(&averages, 3) > 0 ? formatDecimal(averages[0], places: 2) : "unknown"
    return "load average \(load) on \(sysconf(Int32(_SC_NPROCESSORS_ONLN))) CPUs"
}
