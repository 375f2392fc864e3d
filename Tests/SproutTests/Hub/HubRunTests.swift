import Testing
@testable import Sprout

import Glibc

/// `Hub.run`, teardown, signals and reports: each scenario runs in its own helper process.
@Suite(.heavy)
struct HubRunTests {
    @Test func mainReturningKillsGreenletsRunsCleanupAndClosesTheLoop() async throws {
        let run = try await runHelper(["teardown"])
        #expect(run.status == .exited(0))
        for index in 0..<3 {
            #expect(occurrences(of: "cleanup \(index)\n", in: run.stdout) == 1)
        }
        #expect(run.stdout.contains("returned 42"))
        // uv_loop_close failing, or a stuck greenlet, would be reported on stderr.
        #expect(run.stderr.isEmpty, "stderr: \(run.stderr)")
        #expect(run.stdout.contains("second run: Hub.run was called again after the hub shut down"))
    }

    @Test func killAllKillsGreenletsThatHaveNotStartedYet() async throws {
        let run = try await runHelper(["kill-all-unstarted"])
        #expect(run.status == .exited(0))
        #expect(run.stdout == "stuck 0, killed 3\n", "stdout: \(run.stdout)")
        #expect(run.stderr.isEmpty, "stderr: \(run.stderr)")
    }

    @Test(arguments: [(SIGINT, Int32(130)), (SIGTERM, Int32(143))])
    func signalTearsDownAndExitsWithShellCode(signal: Int32, code: Int32) async throws {
        let run = try await runHelper(["signal"], readyLine: "ready") { child in
            try child.signal(signal)
        }
        #expect(run.status == .exited(code))
        #expect(occurrences(of: "cleanup 0\n", in: run.stdout) == 1)
        #expect(occurrences(of: "cleanup 1\n", in: run.stdout) == 1)
        #expect(run.stdout.contains("hook ran"))
        #expect(!run.stdout.contains("not reached"))
    }

    @Test func blockingTheHubIsReportedOnceWithTheGreenletsName() async throws {
        let run = try await runHelper(["block"])
        #expect(run.status == .exited(0))
        #expect(occurrences(of: "has been blocked for", in: run.stderr) == 1, "stderr: \(run.stderr)")
        #expect(run.stderr.contains("sleepy-greenlet"))
        // With no LoggingSystem.bootstrap, swift-log's default handler writes the report on
        // stderr as one line: level, the hub's label, the message.
        #expect(run.stderr.contains(" warning sprout.hub: [Sprout] the hub has been blocked for "), "stderr: \(run.stderr)")
        // The hub thread's stack, taken when the block was seen, names the blocking call
        // and the function that made it.
        #expect(run.stderr.contains("the hub thread's stack when it was seen blocked:"), "stderr: \(run.stderr)")
        #expect(run.stderr.contains("blockTheHubForTest()"), "stderr: \(run.stderr)")
        #expect(run.stderr.contains("#0 ") && (run.stderr.contains("usleep") || run.stderr.contains("nanosleep")), "stderr: \(run.stderr)")
        // Taking the stack did not cut the 400 ms sleep short.
        let slept = run.stdout.split(separator: "\n").first { $0.hasPrefix("slept ") }.flatMap { Int($0.split(separator: " ")[1]) }
        #expect((slept ?? 0) >= 399, "stdout: \(run.stdout)")
    }

    @Test func anUnreadErrorIsReportedExactlyOnceAndAReadOneNever() async throws {
        let run = try await runHelper(["unobserved"])
        #expect(run.status == .exited(0))
        #expect(run.stdout.contains("caught somebody looked at me"))
        #expect(occurrences(of: "nobody looked at me", in: run.stderr) == 1, "stderr: \(run.stderr)")
        #expect(occurrences(of: "forgotten", in: run.stderr) == 1)
        #expect(!run.stderr.contains("somebody looked at me"))
        #expect(run.stderr.contains(" error sprout.hub: [Sprout] greenlet"), "stderr: \(run.stderr)")
    }

    @Test func runSendsTheHubsReportsToItsLogger() async throws {
        let run = try await runHelper(["run-logger"])
        #expect(run.status == .exited(0))
        #expect(run.stderr.isEmpty, "stderr: \(run.stderr)")
        #expect(occurrences(of: " error helper.hub: [Sprout] ", in: run.stdout) == 1, "stdout: \(run.stdout)")
        #expect(run.stdout.contains("nobody looked at me"))
    }

    @Test func mainGreenletsErrorComesOutOfRunAndIsNotReported() async throws {
        let run = try await runHelper(["main-throws"])
        #expect(run.status == .exited(0))
        #expect(run.stdout.contains("Hub.run threw main failed"))
        #expect(run.stderr.isEmpty, "stderr: \(run.stderr)")
    }
}
