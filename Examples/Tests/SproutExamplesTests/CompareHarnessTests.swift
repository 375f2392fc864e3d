import Testing
import Sprout
import SproutTestSupport

import Glibc

/// The benchmark harness as the README tells a reader to start it: `compare.py --list`
/// names every workload `--only` can pick, and an `--only` that picks none stops at once
/// instead of building for minutes and printing an empty table.
@Suite("bench/compare/compare.py", .heavy(timeLimit: .seconds(60)))
struct CompareHarnessTests {
    /// This file is Examples/Tests/SproutExamplesTests/CompareHarnessTests.swift.
    private static let repository: String = {
        var path = "\(#filePath)"
        for _ in 0..<4 { path = String(path[..<path.lastIndex(of: "/")!]) }
        return path
    }()

    private func compare(_ arguments: [String]) async throws -> CommandOutput {
        try await onHub(seconds: 50) {
            try await Command("/usr/bin/env", arguments: ["python3", "bench/compare/compare.py"] + arguments,
                              workingDirectory: Self.repository,
                              standardOutput: .pipe, standardError: .pipe).output(timeout: 45)
        }
    }

    /// Every workload's name in bench/compare/workloads/*.json, read here without the harness.
    private func workloadNames() async throws -> [String] {
        let script = """
            import glob, json
            for p in sorted(glob.glob('bench/compare/workloads/*.json')):
                for w in json.load(open(p)): print(w['name'])
            """
        let output = try await onHub(seconds: 20) {
            try await Command("/usr/bin/env", arguments: ["python3", "-c", script], workingDirectory: Self.repository,
                              standardOutput: .pipe, standardError: .pipe).output(timeout: 15)
        }
        return String(decoding: output.standardOutput, as: UTF8.self).split(separator: "\n").map(String.init)
    }

    @Test func listNamesEveryWorkloadAndRunsNothing() async throws {
        let names = try await workloadNames()
        #expect(names.count > 10, "\(names)")
        let output = try await compare(["--list"])
        #expect(output.succeeded, "\(String(decoding: output.standardError, as: UTF8.self))")
        let lines = String(decoding: output.standardOutput, as: UTF8.self).split(separator: "\n")
        #expect(lines.count == names.count)
        for (line, name) in zip(lines, names) { #expect(line.hasPrefix(name + "  ("), "\(line)") }

        let pool = try await compare(["--list", "--only", "pool-"])
        let poolLines = String(decoding: pool.standardOutput, as: UTF8.self).split(separator: "\n")
        #expect(poolLines.count == names.filter { $0.contains("pool-") }.count)
        #expect(poolLines.allSatisfy { $0.hasPrefix("pool-") }, "\(poolLines)")
    }

    @Test func anOnlyThatMatchesNothingStopsAtOnce() async throws {
        let output = try await compare(["--only", "no such workload"])
        #expect(output.status == .exited(1))
        let message = String(decoding: output.standardError, as: UTF8.self)
        #expect(message.contains("no workload name contains 'no such workload'"), "\(message)")
        #expect(message.contains("--list"), "\(message)")
        #expect(!message.contains("Compiling"), "it stopped before building: \(message)")
    }
}
