import Testing
import Sprout
import SproutTestSupport

import Glibc

/// The example programs run as a user runs them, each checked on what it prints.
@Suite("Example programs", .heavy(timeLimit: .seconds(180)))
struct ExampleProgramsTests {
    private func run(_ name: String, _ arguments: [String] = [], in directory: String? = nil) async throws -> String {
        let output = try await onHub(seconds: 170) {
            try await Command(builtExecutable(name), arguments: arguments, workingDirectory: directory,
                              standardOutput: .pipe, standardError: .pipe).output(timeout: 160)
        }
        #expect(output.succeeded, "\(name) ended with \(output.status): \(String(decoding: output.standardError, as: UTF8.self))")
        return String(decoding: output.standardOutput, as: UTF8.self)
    }

    @Test func fetchURLsOfflinePrintsTheSpeedupOfGreenlets() async throws {
        let text = try await run("fetch-urls")
        let line = try #require(text.split(separator: "\n").first { $0.contains("speedup:") }, "\(text)")
        let speedup = try #require(Double(line.split(separator: " ").last!.dropLast()), "\(line)")
        // Ten pages that each answer after a delay: all at once takes about one delay.
        #expect(speedup > 2, "\(text)")
    }

    @Test func theDemoRunsInShortMode() async throws {
        let directory = "/tmp/sprout-demo-test-\(getpid())"
        #expect(mkdir(directory, 0o755) == 0)
        defer {
            unlink(directory + "/sprout-demo.svg")
            rmdir(directory)
        }
        let text = try await run("sprout-demo", ["--short"], in: directory)
        #expect(text.contains("speedup:"), "\(text)")
        #expect(text.contains("== What this run showed"), "\(text)")
        #expect(access(directory + "/sprout-demo.svg", R_OK) == 0, "the chart was written")
    }
}
