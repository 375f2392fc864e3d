import Testing

/// The blocking monitor tells a hub that its own code holds from one that other processes
/// keep from a CPU. (A hub held by a sleep or a CPU loop is reported blocked: HubRunTests,
/// HubLoggerTests, HubThreadStackTests.) Heavy: the helper spins a child at the highest
/// priority on one core for half a second.
@Suite(.heavy)
struct BlockingMonitorTests {
    @Test func aHubStarvedOfCPUByAnotherProcessIsNotReportedBlocked() async throws {
        let run = try await runHelper(["starved"])
        #expect(run.status == .exited(0), "stderr: \(run.stderr)")
        let line = run.stdout.split(separator: "\n").first { $0.hasPrefix("held ") || $0.hasPrefix("cannot starve") } ?? ""
        let held = line.split(separator: " ").dropFirst().first.flatMap { Int($0) } ?? 0
        print("starved hub: \(line)")
        // The child kept the hub's thread from its core for most of its 500 ms, past the
        // monitor's 100 ms threshold, while the greenlet needed 20 ms of CPU.
        #expect(held >= 200, "the hub was not starved: \(line)")
        #expect(!run.stderr.contains("has been blocked for"), "stderr: \(run.stderr)")
        #expect(run.stderr.contains("the hub was starved of CPU, not blocked by the program"), "stderr: \(run.stderr)")
    }
}
