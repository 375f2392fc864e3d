import Testing
@testable import Sprout

import Glibc

/// Whole-process checks of Sprout's I/O (descriptor leaks, thousands of connections,
/// signals, orphans), run in `sprout-io-helper` child processes so parallel tests cannot
/// disturb them.
@Suite("I/O in a whole process", .heavy)
struct IOProcessTests {
    /// The helper executable, built next to the test bundle.
    static var helper: String { builtExecutable("sprout-io-helper") }

    static func words(_ bytes: [UInt8]) -> [String] {
        String(decoding: bytes, as: UTF8.self).split(whereSeparator: { $0 == " " || $0 == "\n" }).map(String.init)
    }

    @Test
    func noDescriptorLeaks() async throws {
        try await onHub(seconds: 55) {
            let result = try await Command(Self.helper, arguments: ["fd-leak"]).output(timeout: 50)
            let text = String(decoding: result.standardOutput + result.standardError, as: UTF8.self)
            #expect(result.succeeded, "\(text)")
            let words = Self.words(result.standardOutput)
            #expect(words.first == "FDS")
            #expect(words.count >= 3 && words[1] == words[2], "descriptors leaked: \(text)")
        }
    }

    @Test
    func tenThousandConnectionsHeldOpen() async throws {
        let count = 10_000 * testScale
        try await onHub(seconds: 55) {
            let result = try await Command(Self.helper, arguments: ["many", "\(count)"]).output(timeout: 50)
            let text = String(decoding: result.standardOutput + result.standardError, as: UTF8.self)
            #expect(result.succeeded, "\(text)")
            // SERVED n PEAK p EXIT code FDS before after
            let words = Self.words(result.standardOutput)
            #expect(words.count == 9, "\(text)")
            guard words.count == 9 else { return }
            #expect(words[1] == "\(count)")
            #expect(words[3] == "\(count)", "not every connection was open at once")
            #expect(words[5] == "0", "the client process failed: \(text)")
            #expect(words[7] == words[8], "descriptors leaked: \(text)")
        }
    }

    @Test
    func sigintExits130AndLeavesNoOrphanNorSocket() async throws {
        try await onHub {
            let socketPath = "/tmp/sprout-test-\(getpid())-sigint.sock"
            let helper = try Command(Self.helper, arguments: ["child-then-wait", socketPath], standardOutput: .pipe).spawn()
            let output = try #require(helper.standardOutput)
            let line = try await output.readUntil([10], maxLength: 100)
            let words = Self.words(line)
            #expect(words.first == "READY")
            let grandchild = try #require(words.count == 2 ? Int32(words[1]) : nil)
            #expect(kill(grandchild, 0) == 0, "the helper's child is not running")
            #expect(access(socketPath, F_OK) == 0, "the helper's server is not listening")
            try helper.kill(SIGINT)
            #expect(try await helper.wait(timeout: 10) == .exited(130))
            // The helper stopped and reaped its child before exiting: nothing is left.
            #expect(kill(grandchild, 0) == -1 && errno == ESRCH, "pid \(grandchild) outlived its parent")
            // Its server was stopped by the shutdown too, socket file and all.
            #expect(access(socketPath, F_OK) != 0)
            output.close()
        }
    }

    @Test
    func signalsArriveAsAnAsyncSequence() async throws {
        try await onHub {
            let helper = try Command(Self.helper, arguments: ["signals", "3"], standardOutput: .pipe).spawn()
            let output = try #require(helper.standardOutput)
            #expect(try await output.readUntil([10], maxLength: 100) == Array("READY\n".utf8))
            for _ in 0..<3 {
                try helper.kill(SIGUSR1)
                // Standard signals sent before delivery merge into one; give each its turn.
                try await sleep(0.1)
            }
            #expect(try await output.readToEnd(maxLength: 100) == Array("GOT 3\n".utf8))
            #expect(try await helper.wait(timeout: 10) == .exited(0))
            output.close()
        }
    }

    @Test
    func watchingSigintTakesItOverUntilClosed() async throws {
        try await onHub {
            let helper = try Command(Self.helper, arguments: ["own-sigint"], standardOutput: .pipe).spawn()
            let output = try #require(helper.standardOutput)
            #expect(try await output.readUntil([10], maxLength: 100) == Array("READY\n".utf8))
            try helper.kill(SIGINT)
            // The program's own watch got it, and the process lives on.
            #expect(try await output.readUntil([10], maxLength: 100) == Array("GOT \(SIGINT)\n".utf8))
            try await sleep(0.1)
            try helper.kill(SIGINT)
            #expect(try await helper.wait(timeout: 10) == .exited(130))
            #expect(try await output.readToEnd(maxLength: 100).isEmpty)
            output.close()
        }
    }

    @Test
    func standardInputAndOutputAsStreams() async throws {
        try await onHub {
            let input = Array("hello, streams\n".utf8) + [UInt8](repeating: 97, count: 200_000)
            let result = try await Command(Self.helper, arguments: ["upper"], standardInput: .bytes(input)).output(timeout: 20)
            #expect(result.succeeded)
            let expected = Array("HELLO, STREAMS\n".utf8) + [UInt8](repeating: 65, count: 200_000)
            #expect(sameBytes(result.standardOutput, expected), "got \(result.standardOutput.count) bytes, expected \(expected.count)")
        }
    }
}
