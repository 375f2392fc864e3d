import Sprout
import SproutExamplesSupport
import SproutTestSupport
import Testing

import Glibc

private func readFile(_ path: String) -> String {
    guard let file = fopen(path, "r") else { return "" }
    defer { fclose(file) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 4096)
    while case let count = fread(&chunk, 1, chunk.count, file), count > 0 { bytes += chunk[0..<count] }
    return String(decoding: bytes, as: UTF8.self)
}

@Suite(.heavy)
struct CPUOffloadTests {
    @Test func everyModeComputesTheSameChecksumAndTheChartIsWritten() async throws {
        let directory = "/tmp/sprout-cpu-offload-test-\(getpid())"
        mkdir(directory, 0o700)
        defer {
            unlink(directory + "/chart.svg")
            unlink(directory + "/rows.tsv")
            rmdir(directory)
        }
        // The real program: pool workers and the HTTP load client are it, started again.
        let command = Command(builtExecutable("cpu-offload"), arguments: [
            "--size", "\(20_000 * testScale)", "--pieces", "4", "--workers", "2", "--duration", "0.3", "--rate", "50",
            "--output", directory + "/chart.svg", "--rows", directory + "/rows.tsv",
        ])
        let output = try await spawn { try await command.output(timeout: 50) }.get()
        let stdout = String(decoding: output.standardOutput, as: UTF8.self)
        #expect(output.succeeded, "\(output.status): \(stdout)\n\(String(decoding: output.standardError, as: UTF8.self))")
        #expect(stdout.contains("Every mode computed the same answer"))
        #expect(stdout.contains("chart: \(directory)/chart.svg"))
        let rows = readFile(directory + "/rows.tsv").split(separator: "\n").map { $0.split(separator: "\t") }
        #expect(rows.map { String($0[0]) } == OffloadMode.allCases.map(\.label))
        #expect(Set(rows.map { $0.last! }).count == 1)
        // Every hub mode's load client got answers.
        #expect(rows.dropFirst().allSatisfy { Int($0[5])! > 0 })
        #expect(readFile(directory + "/chart.svg").hasSuffix("</svg>\n"))
    }
}

/// Test sizes scale with SPROUT_TEST_SCALE (default 1).
