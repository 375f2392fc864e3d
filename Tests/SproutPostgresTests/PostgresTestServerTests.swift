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
                kill(postmaster, 0) != 0 && access(server.directory, F_OK) != 0
            }
        }
    }
}
