import Sprout
import SproutHTTP

/// The greenlet-versus-thread-versus-process comparison: the same ``PrimeWorkload`` run in
/// each ``OffloadMode`` for at least `duration` seconds, while a probe greenlet measures how
/// late the hub wakes and a separate client process sends HTTP requests to a server on
/// the hub at a fixed rate.
public struct OffloadExperiment: Sendable {
    /// The work.
    public var workload: PrimeWorkload
    /// Worker processes, and threads in the thread mode.
    public var workers: Int
    /// Seconds each mode runs at least; the workload repeats until they have passed.
    public var duration: Double
    /// HTTP requests per second the load client sends.
    public var rate: Double
    /// Niceness of the pool's workers (0 leaves them at normal priority).
    public var nice: Int32

    /// An experiment; nothing runs until ``runBaseline()`` or ``run(_:)``.
    public init(workload: PrimeWorkload, workers: Int, duration: Double, rate: Double, nice: Int32) {
        self.workload = workload
        self.workers = max(1, workers)
        self.duration = duration
        self.rate = rate
        self.nice = nice
    }

    /// Runs the baseline: a plain loop over the pieces on the calling thread, no hub, no
    /// probe, no HTTP load. Call it outside ``Hub/run(_:)``.
    public func runBaseline() -> OffloadMeasurement {
        var checksums = Set<UInt64>()
        var rounds = 0
        let cpuStart = processCPUSeconds()
        let start = monotonicSeconds()
        repeat {
            checksums.insert(PrimeWorkload.checksum(workload.ranges.map { countPrimes(from: $0.lowerBound, to: $0.upperBound) }))
            rounds += 1
        } while monotonicSeconds() - start < duration
        let wall = monotonicSeconds() - start
        return OffloadMeasurement(mode: .baseline, rounds: rounds, wallSeconds: wall / Double(rounds),
                                  cpuSeconds: (processCPUSeconds() - cpuStart) / Double(rounds),
                                  checksum: checksums.count == 1 ? checksums.first : nil, lateness: nil, http: nil)
    }

    /// Runs one hub mode (``OffloadMode/baseline`` runs ``runBaseline()`` on a thread of
    /// Sprout's pool instead, so the hub stays idle).
    ///
    /// - Throws: ``IOError`` if the server cannot listen or the client cannot start;
    ///   ``ProcessPoolError`` if the pool cannot start; `CancellationError` if killed.
    @Hub
    public func run(_ mode: OffloadMode) async throws -> OffloadMeasurement {
        if mode == .baseline {
            let experiment = self
            return try await offloadBlocking { experiment.runBaseline() }
        }
        let pool = mode == .processes
            ? try await ProcessPool(workers: workers, initializer: nice > 0 ? WorkerPriority(nice: nice) : nil)
            : nil
        let server = HTTPServer(host: "127.0.0.1", port: 0) { _ in HTTPServerResponse(text: "ok\n") }
        try server.start()
        let client = LoadClient.command(url: "http://127.0.0.1:\(server.port)/", rate: rate, duration: duration)
        let load = spawn(name: "HTTP load client") { [duration] in
            try await client.output(timeout: duration + LoadClient.requestTimeout + 30)
        }
        let probe = HubLatencyProbe()
        probe.start()

        let workerPIDs = pool?.workerPIDs ?? []
        func cpuNow() -> Double { processCPUSeconds() + workerPIDs.reduce(0) { $0 + processCPUSeconds(pid: $1) } }
        var checksums = Set<UInt64>()
        var rounds = 0
        let cpuStart = cpuNow()
        let start = monotonicSeconds()
        repeat {
            checksums.insert(PrimeWorkload.checksum(try await computeRound(mode, pool: pool)))
            rounds += 1
            // Even the inline mode lets the hub breathe between rounds, as gevent code
            // looping over requests would.
            try await sleep(0)
        } while monotonicSeconds() - start < duration
        let wall = monotonicSeconds() - start
        let cpu = cpuNow() - cpuStart

        let lateness = await probe.stop()
        let output = try await load.get()
        await server.stop(timeout: 1)
        if let pool { try await pool.shutdown() }
        let http = LoadClient.parse(output.standardOutput)
        if http == nil {
            print("the HTTP load client failed (\(output.status)): \(String(decoding: output.standardError, as: UTF8.self))")
        }
        return OffloadMeasurement(mode: mode, rounds: rounds, wallSeconds: wall / Double(rounds), cpuSeconds: cpu / Double(rounds),
                                  checksum: checksums.count == 1 ? checksums.first : nil, lateness: lateness, http: http)
    }

    /// The per-piece counts of one round, computed the way `mode` says.
    @Hub
    private func computeRound(_ mode: OffloadMode, pool: ProcessPool?) async throws -> [Int] {
        let ranges = workload.ranges
        switch mode {
        case .baseline, .inline:
            return ranges.map { countPrimes(from: $0.lowerBound, to: $0.upperBound) }
        case .yielding:
            var counts: [Int] = []
            for range in ranges {
                counts.append(countPrimes(from: range.lowerBound, to: range.upperBound))
                try await sleep(0)
            }
            return counts
        case .threads:
            let round = ThreadRound(pieces: ranges.count)
            let runners = (0..<min(workers, ranges.count)).map { index in
                spawn(name: "offload runner \(index)") { try await round.runPieces(ranges) }
            }
            try await joinAll(runners, raiseError: true)
            return round.counts
        case .processes:
            guard let pool else { return [] }
            return try await pool.map(workload.jobs)
        }
    }
}

/// The shared state of one thread-mode round: runners take the next piece until none is left.
@Hub
private final class ThreadRound {
    var counts: [Int]
    private var next = 0

    init(pieces: Int) {
        counts = Array(repeating: 0, count: pieces)
    }

    func runPieces(_ ranges: [Range<Int>]) async throws {
        while next < ranges.count {
            let index = next
            next += 1
            let range = ranges[index]
            counts[index] = try await offloadBlocking { countPrimes(from: range.lowerBound, to: range.upperBound) }
        }
    }
}
