import Testing
@testable import Sprout

import Glibc

@Suite("Command", .heavy)
struct CommandTests {
    @Test
    func capturesOutputAndExitStatus() async throws {
        try await onHub {
            let result = try await Command("/bin/sh", arguments: ["-c", "echo out; echo err >&2; exit 3"]).output(timeout: 10)
            #expect(result.status == .exited(3))
            #expect(!result.succeeded)
            #expect(result.standardOutput == Array("out\n".utf8))
            #expect(result.standardError == Array("err\n".utf8))
        }
    }

    @Test
    func environmentWorkingDirectoryAndInput() async throws {
        try await onHub {
            let command = Command(
                "sh", arguments: ["-c", "echo \"$GREETING\"; pwd; cat"],
                environment: ["GREETING": "hello", "PATH": "/usr/bin:/bin"],
                workingDirectory: "/tmp",
                standardInput: .bytes(Array("from stdin".utf8))
            )
            let result = try await command.output(timeout: 10)
            #expect(result.succeeded)
            #expect(String(decoding: result.standardOutput, as: UTF8.self) == "hello\n/tmp\nfrom stdin")
        }
    }

    @Test
    func streamsOutputWhileTheChildRuns() async throws {
        try await onHub {
            let child = try Command("/bin/sh", arguments: ["-c", "for i in 1 2 3; do echo line $i; sleep 0.05; done"],
                                    standardOutput: .pipe).spawn()
            let output = try #require(child.standardOutput)
            var lines: [String] = []
            while true {
                let line = try await output.readUntil([10])
                if line.isEmpty { break }
                lines.append(String(decoding: line, as: UTF8.self))
            }
            #expect(lines == ["line 1\n", "line 2\n", "line 3\n"])
            #expect(try await child.wait(timeout: 5) == .exited(0))
            output.close()
        }
    }

    @Test
    func pipeInAndOut() async throws {
        try await onHub {
            let child = try Command("cat", standardInput: .pipe, standardOutput: .pipe).spawn()
            let input = try #require(child.standardInput)
            let output = try #require(child.standardOutput)
            for round in 0..<10 {
                let line = Array("round \(round)\n".utf8)
                try await input.write(line)
                #expect(try await output.readUntil([10]) == line)
            }
            input.close()
            #expect(try await output.read() == [])
            #expect(try await child.wait(timeout: 5) == .exited(0))
            output.close()
        }
    }

    @Test
    func killEndsTheChildWithTheSignal() async throws {
        try await onHub {
            let child = try Command("sleep", arguments: ["30"]).spawn()
            #expect(child.exitStatus == nil)
            do {
                _ = try await child.wait(timeout: 0.05)
                Issue.record("sleep 30 ended at once")
            } catch let error as IOError {
                #expect(error.name == "ETIMEDOUT")
            }
            try child.kill(SIGKILL)
            #expect(try await child.wait(timeout: 5) == .signaled(SIGKILL))
            #expect(child.exitStatus?.shellCode == 137)
        }
    }

    @Test
    func timeoutKillsAndReapsTheChild() async throws {
        try await onHub {
            let started = monotonicNanoseconds()
            do {
                _ = try await Command("sleep", arguments: ["30"]).output(timeout: 0.2)
                Issue.record("sleep 30 finished within 0.2 s")
            } catch let error as IOError {
                #expect(error.name == "ETIMEDOUT")
                #expect(error.operation.hasPrefix("run"))
                #expect(error.peer?.hasPrefix("sleep 30") == true)
            }
            #expect(Double(monotonicNanoseconds() - started) / 1e9 < 5)
        }
    }

    @Test
    func killingTheWaitingGreenletKillsTheChild() async throws {
        try await onHub {
            let pidFile = "/tmp/sprout-test-\(getpid())-child.pid"
            let runner = spawn {
                try await Command("/bin/sh", arguments: ["-c", "echo $$ > \(pidFile); exec sleep 30"]).output()
            }
            var pid: Int32?
            for _ in 0..<500 where pid == nil {
                try await sleep(0.01)
                let text = (try? await File.read(pidFile)) ?? []
                if text.last == 10 { pid = Int32(String(decoding: text.dropLast(), as: UTF8.self)) }
            }
            let child = try #require(pid, "the child never wrote its pid")
            runner.cancel()
            #expect(try await runner.join(timeout: 5))
            // The child was killed and reaped: its pid no longer exists.
            #expect(kill(child, 0) == -1)
            unlink(pidFile)
        }
    }

    @Test
    func missingProgramIsANamedError() async throws {
        try await onHub {
            do {
                _ = try Command("/nonexistent/program").spawn()
                Issue.record("spawned a program that does not exist")
            } catch let error as IOError {
                #expect(error.name == "ENOENT")
                #expect(error.operation == "spawn")
                #expect(error.peer == "/nonexistent/program")
                #expect(error.errno == ENOENT)
            }
        }
    }
}
