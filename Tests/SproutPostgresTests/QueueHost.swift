import Foundation
import Sprout
import SproutPostgresTestSupport
import SproutTestSupport

import Glibc

/// A `sprout-queue-worker` process: one worker host of the job queue under test.
@Hub
final class QueueHost {
    let child: ChildCommand

    /// Starts a host serving `url` with `processes` pool workers and leases of `lease`
    /// seconds, inside network namespace `namespace` if given (`ip netns exec` execs it, so
    /// its pid is the host's), with answers that wait for the disk unless `durableAnswers` is
    /// false, and its reports on its standard output (``stop(timeout:)`` returns them) if
    /// `logToStandardOutput`, keeping finished rows `keepFinished` seconds if given, and serving
    /// only `types` if given (a host of another build).
    init(
        _ url: String, processes: Int = 2, lease: Double = 5, namespace: String? = nil, durableAnswers: Bool = true,
        logToStandardOutput: Bool = false, keepFinished: Double? = nil, types: [any ProcessJob.Type]? = nil
    ) throws {
        var worker = [builtExecutable("sprout-queue-worker"), url, String(processes), String(lease)]
        if !durableAnswers { worker.append("async-answers") }
        if logToStandardOutput { worker.append("log-stdout") }
        if let keepFinished { worker.append("keep-finished=\(keepFinished)") }
        if let types { worker.append("types=" + types.map { $0.jobName }.joined(separator: ",")) }
        let command = namespace.map { ["/usr/sbin/ip", "netns", "exec", $0] + worker } ?? worker
        // Its standard input is a pipe from this process: at end of file (this process is
        // gone, maybe killed by SIGKILL) the host exits rather than outlive the test.
        child = try Command(command[0], arguments: Array(command.dropFirst()), standardInput: .pipe, standardOutput: .pipe).spawn()
    }

    var pid: Int32 { child.pid }

    /// The pids of its pool's worker processes now, and of the fork server they are forked
    /// from: its children and theirs.
    var poolPIDs: [Int32] {
        let children = Self.children(of: pid)
        return children + children.flatMap(Self.children(of:))
    }

    /// The children of process `parent` (of any of its threads: the hub thread starts them).
    private static func children(of parent: Int32) -> [Int32] {
        let threads = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(parent)/task")) ?? []
        return threads.flatMap { thread -> [Int32] in
            let text = readFile("/proc/\(parent)/task/\(thread)/children") ?? ""
            return text.split(separator: " ").compactMap { Int32($0) }
        }
    }

    /// Whether the host catches SIGTERM now (a handler installed: the signal's bit in its
    /// `SigCgt`): from then on a SIGTERM reaches the program instead of ending it by the
    /// default action. Between fork and exec the child still has this process's handlers,
    /// so only the host's program counts.
    var catchesSIGTERM: Bool {
        var target = [CChar](repeating: 0, count: 4096)
        let length = readlink("/proc/\(pid)/exe", &target, target.count - 1)
        guard length > 0, String(decoding: target[0..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
            .hasSuffix("/sprout-queue-worker") else { return false }
        let status = readFile("/proc/\(pid)/status") ?? ""
        guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix("SigCgt:") }),
              let mask = UInt64(line.dropFirst("SigCgt:".count).trimmingCharacters(in: .whitespaces), radix: 16) else { return false }
        return mask & (1 << (SIGTERM - 1)) != 0
    }

    /// Returns within 0.5 ms of the moment the host catches SIGTERM (``catchesSIGTERM``).
    ///
    /// - Throws: ``Timeout`` after `timeout` seconds.
    func waitUntilItCatchesSIGTERM(timeout: Double = 10) async throws {
        let end = monotonicSeconds() + timeout
        while !catchesSIGTERM {
            guard monotonicSeconds() < end else { throw Timeout(seconds: timeout) }
            try await sleep(0.0005)
        }
    }

    /// SIGTERM, then waits for it to drain and exit; returns what it printed.
    func stop(timeout: Double = 30) async throws -> (ExitStatus, String) {
        try child.kill(SIGTERM)
        let output = try await child.standardOutput!.readToEnd(maxLength: 1 << 16)
        let status = try await child.wait(timeout: timeout)
        return (status, String(decoding: output, as: UTF8.self))
    }

    /// The answers the table refused, as a host that drained prints them ("refused N" on its
    /// last line); `nil` if it printed no such line.
    static func refusedAnswers(in output: String) -> Int? {
        output.split(separator: "\n").reversed().lazy.compactMap { line in
            line.hasPrefix("refused ") ? Int(line.dropFirst("refused ".count)) : nil
        }.first
    }

    /// SIGKILL, as when a host dies; no wait.
    func kill() {
        try? child.kill(SIGKILL)
    }
}
