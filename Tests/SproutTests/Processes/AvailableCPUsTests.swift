import Testing
@testable import Sprout
import SproutTestSupport

import Glibc

@Suite("AvailableCPUs", .heavy)
struct AvailableCPUsTests {
    /// What `sprout-test-worker cpu-count` prints when started by `sh -c script`.
    private func cpuCount(underShell script: String) async throws -> String {
        let output = try await onHub {
            try await Command("/bin/sh", arguments: ["-c", script], standardOutput: .pipe, standardError: .pipe)
                .output(timeout: 20)
        }
        #expect(output.succeeded, "\(String(decoding: output.standardError, as: UTF8.self))")
        return String(decoding: output.standardOutput, as: UTF8.self).trimmingWhitespace
    }

    @Test func affinityLimitsTheCount() async throws {
        #expect(try await cpuCount(underShell: "exec taskset -c 0 \(workerExecutable) cpu-count") == "cpus 1")
        let all = AvailableCPUs.affinityCount() ?? 0
        #expect(try await cpuCount(underShell: "exec \(workerExecutable) cpu-count") == "cpus \(min(all, AvailableCPUs.cgroupQuota() ?? all))")
    }

    @Test func aCgroupQuotaLimitsTheCount() async throws {
        // A real cgroup, where this machine lets the test make one (root, cgroup v1 `cpu`).
        let group = "/sys/fs/cgroup/cpu/sprout-test-\(getpid())"
        guard mkdir(group, 0o755) == 0 else {
            print("no writable cgroup v1 cpu hierarchy here; only the parsers are checked")
            return
        }
        defer { rmdir(group) }
        let script = "echo 50000 > \(group)/cpu.cfs_quota_us && echo $$ > \(group)/cgroup.procs && exec \(workerExecutable) cpu-count"
        #expect(try await cpuCount(underShell: script) == "cpus 1", "half a CPU of quota is one worker")
    }

    @Test func quotaFilesAreReadAsWholeCPUsRoundedUp() {
        #expect(AvailableCPUs.quotaFromCPUMax("150000 100000\n") == 2)
        #expect(AvailableCPUs.quotaFromCPUMax("100000 100000") == 1)
        #expect(AvailableCPUs.quotaFromCPUMax("max 100000\n") == nil)
        #expect(AvailableCPUs.quotaFromCPUMax("garbage") == nil)
        #expect(AvailableCPUs.quotaFromCFS(quota: "-1\n", period: "100000\n") == nil)
        #expect(AvailableCPUs.quotaFromCFS(quota: "250000\n", period: "100000\n") == 3)
    }

    @Test func cgroupMembershipLinesAreParsed() {
        let v1 = "12:cpu,cpuacct:/docker/abc\n4:memory:/x\n0::/\n"
        let paths = AvailableCPUs.cgroupPaths(v1)
        #expect(paths.count == 2)
        #expect(paths[0].0 == .cpuController && paths[0].1 == "/docker/abc")
        #expect(paths[1].0 == .unified && paths[1].1 == "/")
        #expect(AvailableCPUs.ancestors("/a/b") == ["", "/a", "/a/b"])
    }
}

extension String {
    fileprivate var trimmingWhitespace: String {
        String(drop { $0.isWhitespace }.reversed().drop { $0.isWhitespace }.reversed())
    }
}
