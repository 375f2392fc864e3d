import Glibc

/// How many CPUs this process may really use: the CPUs its affinity mask allows
/// (`taskset`, `docker --cpuset-cpus`), further limited by a cgroup CPU quota (`docker
/// --cpus`, Kubernetes limits; cgroup v2 `cpu.max` or v1 `cpu.cfs_quota_us`), rounded up
/// and at least 1. The number of online CPUs alone oversubscribes a container.
enum AvailableCPUs {
    static var count: Int {
        var limit = affinityCount() ?? Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))
        if let quota = cgroupQuota() { limit = min(limit, quota) }
        return max(1, limit)
    }

    /// The CPUs in this process's affinity mask, or `nil` if it cannot be read.
    static func affinityCount() -> Int? {
        // Swift's Glibc module leaves out what needs _GNU_SOURCE, sched_getaffinity among
        // them: look the C function up by name.
        guard let symbol = dlsym(dlopen(nil, RTLD_NOW), "sched_getaffinity") else { return nil }
        typealias GetAffinity = @convention(c) (pid_t, Int, UnsafeMutableRawPointer?) -> Int32
        let getAffinity = unsafeBitCast(symbol, to: GetAffinity.self)
        var mask = [UInt8](repeating: 0, count: 1024)   // room for 8192 CPUs
        let rc = mask.withUnsafeMutableBytes { getAffinity(0, $0.count, $0.baseAddress) }
        guard rc == 0 else { return nil }
        return mask.reduce(0) { $0 + $1.nonzeroBitCount }
    }

    /// The tightest CPU quota of this process's cgroups, in whole CPUs rounded up, or
    /// `nil` when there is none.
    static func cgroupQuota() -> Int? {
        guard let membership = readText("/proc/self/cgroup") else { return nil }
        var quotas: [Int] = []
        for (hierarchy, path) in cgroupPaths(membership) {
            for directory in ancestors(path) {
                if hierarchy == .unified {
                    if let text = readText("/sys/fs/cgroup\(directory)/cpu.max"), let quota = quotaFromCPUMax(text) {
                        quotas.append(quota)
                    }
                } else {
                    for mount in ["/sys/fs/cgroup/cpu", "/sys/fs/cgroup/cpu,cpuacct"] {
                        if let quota = readText("\(mount)\(directory)/cpu.cfs_quota_us"),
                           let period = readText("\(mount)\(directory)/cpu.cfs_period_us"),
                           let cpus = quotaFromCFS(quota: quota, period: period) {
                            quotas.append(cpus)
                        }
                    }
                }
            }
        }
        return quotas.min()
    }

    enum Hierarchy { case unified, cpuController }

    /// The cgroup paths of `/proc/self/cgroup` that can carry a CPU quota: the unified
    /// (v2) one, `0::/path`, and the v1 `cpu` controller's.
    static func cgroupPaths(_ membership: String) -> [(Hierarchy, String)] {
        membership.split(separator: "\n").compactMap { line in
            let fields = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
            guard fields.count == 3 else { return nil }
            if fields[0] == "0" && fields[1].isEmpty { return (.unified, String(fields[2])) }
            if fields[1].split(separator: ",").contains("cpu") { return (.cpuController, String(fields[2])) }
            return nil
        }
    }

    /// `path` and each directory above it up to the root, whose limits apply too; the
    /// root comes first. A container often sees its own cgroup as the root.
    static func ancestors(_ path: String) -> [String] {
        var result = [""]
        var current = ""
        for part in path.split(separator: "/") {
            current += "/\(part)"
            result.append(current)
        }
        return result
    }

    /// Whole CPUs (rounded up) from a cgroup v2 `cpu.max`: `"150000 100000"` is 2;
    /// `"max 100000"` is no limit (`nil`).
    static func quotaFromCPUMax(_ text: String) -> Int? {
        let fields = text.split(whereSeparator: \.isWhitespace)
        guard fields.count == 2, let quota = Int(fields[0]), let period = Int(fields[1]) else { return nil }
        return wholeCPUs(quota: quota, period: period)
    }

    /// Whole CPUs (rounded up) from cgroup v1's `cpu.cfs_quota_us` and
    /// `cpu.cfs_period_us`; a quota of -1 is no limit (`nil`).
    static func quotaFromCFS(quota: String, period: String) -> Int? {
        guard let quota = Int(quota.filter { !$0.isWhitespace }),
              let period = Int(period.filter { !$0.isWhitespace }) else { return nil }
        return wholeCPUs(quota: quota, period: period)
    }

    private static func wholeCPUs(quota: Int, period: Int) -> Int? {
        guard quota > 0, period > 0 else { return nil }
        return (quota + period - 1) / period
    }

    /// A small text file's contents (a `/proc` or `/sys` file), or `nil` if it cannot be read.
    private static func readText(_ path: String) -> String? {
        readSmallFile(path).map { String(decoding: $0, as: UTF8.self) }
    }
}
