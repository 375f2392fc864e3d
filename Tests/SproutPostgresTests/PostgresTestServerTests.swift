import Foundation
import Sprout
import SproutPostgresTestSupport
import SproutTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The test server must not outlive its test process, even one killed by SIGKILL.
@Suite(.heavy(timeLimit: .seconds(120)), .enabled(if: PostgresTestServer.isAvailable, PostgresTestServer.missingMessage))
struct PostgresTestServerTests {
    @Test func aServerWhoseOwnerIsGoneIsStoppedAndDeleted() async throws {
        try await onHub(seconds: 90) {
            let server = try await PostgresTestServer.start()
            let pidFile = try String(contentsOfFile: server.directory + "/data/postmaster.pid", encoding: .utf8)
            let postmaster = try #require(pidFile.split(separator: "\n").first.flatMap { Int32($0) })
            #expect(kill(postmaster, 0) == 0)
            // What the kernel does to the watchdog's pipe when this process dies.
            server.abandon()
            // Throws `Timeout` if the postmaster or its directory is still there.
            try await waitFor(timeout: slack(10)) {
                hasEnded(postmaster) && access(server.directory, F_OK) != 0
            }
        }
    }
}

/// Whether `pid` has ended: gone, or a zombie nobody has reaped. pg_ctl daemonizes the
/// postmaster, which then belongs to init, and a container's first process may reap nothing
/// (this machine's does not): the ended postmaster stays a zombie, which `kill(pid, 0)` still
/// finds.
private func hasEnded(_ pid: Int32) -> Bool {
    if kill(pid, 0) != 0 { return true }
    // The state is the first field after the command name's closing parenthesis.
    guard let stat = readFile("/proc/\(pid)/stat"), let close = stat.lastIndex(of: ")") else { return false }
    return stat[close...].dropFirst().trimmingPrefix(" ").first == "Z"
}
