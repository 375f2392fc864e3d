import Testing
@testable import Sprout
import SproutTestSupport

@Suite("ProgressLine", .heavy)
struct ProgressLineTests {
    private func run(_ executable: String, _ arguments: [String]) async throws -> CommandOutput {
        try await onHub(seconds: 40) {
            try await Command(executable, arguments: arguments, standardOutput: .pipe, standardError: .pipe).output(timeout: 30)
        }
    }

    @Test func drawsOneLineOnATerminal() async throws {
        // `script` runs the program on a pseudo-terminal and copies what it shows to its output.
        // Without the blocked-hub report, whose line a slow or loaded machine (or a sanitizer
        // build) can add to the terminal's.
        let command = "SPROUT_BLOCKING_MS=off \(workerExecutable) progress-map"
        let output = try await run("/usr/bin/script", ["-q", "-e", "-c", command, "/dev/null"])
        #expect(output.succeeded)
        let shown = String(decoding: output.standardOutput, as: UTF8.self)
        #expect(shown.contains("\rsquares: 12/12 100% | "), "\(shown.debugDescription)")
        #expect(shown.contains("\rfails: 3/3 100% | ") && shown.contains(" | 3 failed"), "\(shown.debugDescription)")
        #expect(shown.contains("\rgreenlets: 8/8 100% | "), "\(shown.debugDescription)")
        // The terminal turns each newline into "\r\n"; count the newline bytes.
        #expect(output.standardOutput.filter { $0 == 10 }.count == 3, "one line per map, redrawn in place: \(shown.debugDescription)")
    }

    @Test func drawsNothingWhenStandardErrorIsNotATerminal() async throws {
        let output = try await run(workerExecutable, ["progress-map"])
        #expect(output.succeeded)
        #expect(output.standardError.isEmpty, "\(String(decoding: output.standardError, as: UTF8.self))")
    }
}
