import Sprout
import SproutHTTP

import Glibc

/// The HTTP load of the offload comparison: a separate process (this same program started
/// again with ``flag``) that sends GET requests to the hub's server at a fixed rate and
/// records each one's latency from the moment it was due, so a stalled server shows in
/// full (no coordinated omission).
public enum LoadClient {
    /// The first argument that turns a run of the program into the load client.
    public static let flag = "--sprout-load-client"
    /// How long one request may take before it counts as failed, in seconds.
    public static let requestTimeout = 5.0

    /// What the client measured.
    public struct Result: Sendable {
        /// Requests sent.
        public let sent: Int
        /// Requests answered with status 200 within ``LoadClient/requestTimeout``.
        public let answered: Int
        /// Latency of the answered ones, from the moment each was due.
        public let latency: LatencySummary
    }

    /// Runs the load client and exits if this process was started as one (``flag`` first);
    /// returns at once otherwise. Call it first thing in `main`, after
    /// ``ProcessPool/serveIfWorker(jobs:coder:)``.
    ///
    /// - Throws: ``IOError`` or ``HTTPError`` only if the hub or the client cannot start.
    public static func runIfRequested() throws {
        let arguments = CommandLine.arguments
        guard arguments.count == 5, arguments[1] == flag,
              let rate = Double(arguments[3]), let duration = Double(arguments[4]) else { return }
        let url = arguments[2]
        let line = try Hub.run { try await load(url: url, rate: rate, duration: duration) }
        print(line)
        exit(0)
    }

    /// The command that starts the client against `url` for `duration` seconds.
    public static func command(url: String, rate: Double, duration: Double) -> Command {
        // argv[0] finds this program again: as a path, or through PATH as the shell did.
        Command(CommandLine.arguments[0], arguments: [flag, url, "\(rate)", "\(duration)"],
                standardInput: .null, standardOutput: .pipe, standardError: .pipe)
    }

    /// Reads the client's result line; `nil` if it printed none.
    public static func parse(_ output: [UInt8]) -> Result? {
        let text = String(decoding: output, as: UTF8.self)
        guard let line = text.split(separator: "\n").last(where: { $0.hasPrefix("LOAD ") }) else { return nil }
        let numbers = line.split(separator: " ").dropFirst().compactMap { UInt64($0) }
        guard numbers.count == 5 else { return nil }
        return Result(sent: Int(numbers[0]), answered: Int(numbers[1]),
                      latency: LatencySummary(count: Int(numbers[1]), p50: numbers[2], p99: numbers[3], max: numbers[4]))
    }

    @Hub
    private final class Recorder {
        var latencies: [UInt64] = []
    }

    @Hub
    private static func load(url: String, rate: Double, duration: Double) async throws -> String {
        let client = HTTPClient()
        defer { client.close() }
        let recorder = Recorder()
        let total = max(1, Int(rate * duration))
        let start = monotonicNanoseconds()
        var requests: [Greenlet<Void>] = []
        requests.reserveCapacity(total)
        for index in 0..<total {
            let due = start + UInt64(Double(index) / rate * 1e9)
            let now = monotonicNanoseconds()
            if due > now { try await sleep(Double(due - now) / 1e9) }
            requests.append(spawn(name: "request \(index)") {
                guard let response = try? await client.get(url, timeout: requestTimeout), response.status == 200 else { return }
                recorder.latencies.append(monotonicNanoseconds() - due)
            })
        }
        try await joinAll(requests)
        let summary = LatencySummary(recorder.latencies)
        return "LOAD \(total) \(summary.count) \(summary.p50) \(summary.p99) \(summary.max)"
    }

}
