import SproutTestSupport
import Testing
@testable import Sprout

/// gevent's `LoopExit`: a main greenlet that waits with nothing left that could wake it makes
/// `Hub.run` throw within 100 ms — and one that something can still wake is left waiting.
/// Each scenario is a `Hub.run` program of its own (the helper's `loop-exit` and `loop-wakes`).
@Suite(.heavy)
struct LoopExitTests {
    @Test(arguments: [
        ("event", "Event.wait()"),
        ("queue", "a queue's get()"),
        ("async-result", "join() or get() of AsyncResult<Int>"),
        ("join-all", "join() or get() of greenlet 'parked-forever'"),
        ("after-switch", "Event.wait()"),
    ])
    func aMainGreenletThatWouldWaitForeverGetsLoopExit(shape: String, waitingIn: String) async throws {
        let run = try await runHelper(["loop-exit", shape])
        #expect(run.status == .exited(0), "stderr: \(run.stderr)")
        let line = try #require(run.stdout.split(separator: "\n").first { $0.hasPrefix("LoopExit after ") }, "stdout: \(run.stdout)")
        #expect(line.contains("This operation would block forever: the main greenlet waits in \(waitingIn)"), "\(line)")
        let milliseconds = try #require(Int(line.dropFirst("LoopExit after ".count).prefix { $0 != " " }))
        #expect(Double(milliseconds) < slack(0.1) * 1000, "\(line)")
    }

    @Test(arguments: ["timer", "socket", "child", "offload", "signal"])
    func somethingThatCanStillWakeItIsWaitedFor(shape: String) async throws {
        let run = try await runHelper(["loop-wakes", shape])
        #expect(run.status == .exited(0), "stderr: \(run.stderr)")
        #expect(run.stdout.contains("woken"), "stdout: \(run.stdout) stderr: \(run.stderr)")
        #expect(!run.stderr.contains("LoopExit") && !run.stdout.contains("would block forever"))
    }
}
