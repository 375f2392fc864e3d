import Sprout
import SproutPostgresTestSupport
import SproutTestSupport
import Testing

import Glibc

/// scripts/lib/postgres.sh: the throw-away server of scripts/cluster-demo.sh and bench/compare.
@Suite(.heavy(timeLimit: .seconds(120)), .enabled(if: PostgresTestServer.isAvailable, PostgresTestServer.missingMessage))
struct PostgresScriptTests {
    static let repository = String(#filePath).split(separator: "/", omittingEmptySubsequences: false).dropLast(3).joined(separator: "/")

    @Test func aServerIsStoppedWhenTheProgramThatStartedItIsKilled() async throws {
        try await onHub(seconds: 90) {
            // Killed with its whole process group by SIGKILL, the caller runs no trap and no
            // `finally`: the servers left running on the shared machine came from such ends.
            let caller = try Command(
                "/bin/bash", arguments: ["-c", #"source scripts/lib/postgres.sh && postgres_start && echo "$POSTGRES_DIR" && exec sleep 60"#],
                workingDirectory: Self.repository, standardOutput: .pipe, newProcessGroup: true
            ).spawn()
            // Whatever fails below, the caller goes (and the watchdog under test stops its server).
            defer { kill(-caller.pid, SIGKILL) }
            let line = try await caller.standardOutput!.readUntil(Array("\n".utf8))
            let directory = String(decoding: line, as: UTF8.self).split(separator: "\n").first.map(String.init) ?? ""
            let postmaster = try #require(Int32(readFile(directory + "/data/postmaster.pid")?.split(separator: "\n").first ?? ""))
            #expect(Self.isRunning(postmaster))
            kill(-caller.pid, SIGKILL)
            _ = try await caller.wait(timeout: 10)
            do {
                try await waitFor(timeout: slack(10)) { !Self.isRunning(postmaster) && access(directory, F_OK) != 0 }
            } catch {
                // Do the watchdog's work: SIGQUIT is PostgreSQL's immediate shutdown.
                kill(postmaster, SIGQUIT)
                _ = try? await Command("/bin/rm", arguments: ["-rf", directory]).output(timeout: 30)
                throw error
            }
        }
    }

    /// Whether process `pid` exists and is not a zombie (this machine's init may reap late).
    private static func isRunning(_ pid: Int32) -> Bool {
        guard let stat = readFile("/proc/\(pid)/stat"), let end = stat.lastIndex(of: ")") else { return false }
        let state = stat[stat.index(after: end)...].split(separator: " ").first
        return state != "Z" && state != "X"
    }
}
