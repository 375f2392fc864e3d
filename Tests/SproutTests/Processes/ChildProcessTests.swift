import Testing
@testable import Sprout
import SproutTestJobs

import Glibc

@Suite("ChildProcess", .heavy)
struct ChildProcessTests {
    @Test func aChildRunsOneJobAndExits() async throws {
        try await onHub {
            let child = ChildProcess(Square(6), executable: workerExecutable)
            #expect(!child.isAlive && child.pid == nil)
            try child.start()
            #expect(child.isAlive)
            #expect(try await child.value(timeout: 10) == 36)
            #expect(try await child.join(timeout: 5))
            #expect(child.exitStatus == .exited(0))
            #expect(child.exitCode == 0)
            #expect(!child.isAlive)
            #expect(try await survivors([child.pid!]).isEmpty)
            #expect(throws: ProcessPoolError.self) { try child.start() }
        }
    }

    @Test func childrenHaveNamesAndAreJoinedLikeGreenlets() async throws {
        try await onHub {
            let named = ChildProcess(Square(2), name: "北门吹雪", executable: workerExecutable)
            let children = [named] + (3...4).map { ChildProcess(Square($0), executable: workerExecutable) }
            #expect(named.name == "北门吹雪")
            #expect(children[1].name.hasPrefix("ChildProcess-") && children[1].name != children[2].name)
            for child in children { try child.start() }
            let finished = try await joinAll(children, timeout: 20)
            #expect(finished.count == 3 && children.allSatisfy { $0.isReady && $0.isSuccessful && !$0.isAlive })
            var values: [Int] = []
            for child in children { values.append(try await child.get(timeout: 1)) }
            #expect(values == [4, 9, 16])

            let failing = ChildProcess(Fail(code: 1), executable: workerExecutable)
            try failing.start()
            await #expect(throws: JobFailed.self) { try await joinAll([failing], raiseError: true) }
        }
    }

    @Test func aThrowingJobComesBackAsJobFailed() async throws {
        try await onHub {
            let child = ChildProcess(Fail(code: 9), executable: workerExecutable)
            try child.start()
            await #expect(throws: JobFailed.self) { try await child.value(timeout: 10) }
        }
    }

    @Test func joinTimesOutThenKillAndTerminateEndTheChild() async throws {
        try await onHub {
            let busy = ChildProcess(BusyLoop(), executable: workerExecutable)
            try busy.start()
            #expect(try await busy.join(timeout: 0.2) == false)
            #expect(busy.isAlive)
            busy.kill()
            #expect(try await busy.join(timeout: 5))
            #expect(busy.exitStatus == .signaled(SIGKILL))
            #expect(busy.exitCode == -SIGKILL)
            await #expect(throws: WorkerCrashed.self) { try await busy.value() }

            let napping = ChildProcess(Nap(seconds: 30), executable: workerExecutable)
            try napping.start()
            try await sleep(0.2)
            napping.terminate(grace: 2)
            #expect(try await napping.join(timeout: 5))
            #expect(napping.exitStatus == .signaled(SIGTERM))
            #expect(try await survivors([busy.pid!, napping.pid!]).isEmpty)
        }
    }

    @Test func anUnregisteredJobFailsClearly() async throws {
        try await onHub {
            let child = ChildProcess(NotRegistered(), executable: workerExecutable)
            try child.start()
            await #expect {
                try await child.value(timeout: 10)
            } throws: { error in
                guard case .unregisteredJob? = error as? ProcessPoolError else { return false }
                return true
            }
            #expect(try await child.join(timeout: 5))
        }
    }

    @Test func nonDaemonChildrenAreWaitedForAndDaemonsTerminatedAtShutdown() async throws {
        try await onHub {
            let program = try TestProgram(workerExecutable, ["child-parent"])
            defer { program.finish() }
            let start = monotonicNanoseconds()
            guard let line = try await program.readLine(timeout: 20), line.hasPrefix("pids ") else {
                try? program.child.signal(SIGKILL)
                Issue.record("no pids line")
                return
            }
            let pids = line.dropFirst(5).split(separator: " ").compactMap { Int32($0) }
            #expect(try await program.child.wait(timeout: 20) == .exited(0))
            let seconds = Double(monotonicNanoseconds() - start) / 1e9
            #expect(seconds >= 0.4, "the non-daemon child was waited for")
            #expect(seconds < slack(10), "the daemon child was not")
            #expect(try await survivors(pids).isEmpty)
        }
    }
}
