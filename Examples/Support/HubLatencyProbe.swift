import Sprout

/// A greenlet that sleeps 10 ms at a time and records how late each wake-up came, in
/// nanoseconds — what every other greenlet on the hub would suffer at that moment.
@Hub
public final class HubLatencyProbe {
    /// How long each sleep asks for.
    public nonisolated static let interval = 0.010
    private var samples: [UInt64] = []
    private var greenlet: Greenlet<Void>?
    /// When the sleep in progress began, so a wake-up that never came still counts.
    private var sleepingSince: UInt64?

    /// A probe; nothing runs until ``start()``.
    public init() {}

    /// Starts sampling.
    public func start() {
        samples.reserveCapacity(2048)
        greenlet = spawn(name: "hub latency probe") { [self] in
            let asked = UInt64(Self.interval * 1e9)
            while true {
                let before = monotonicNanoseconds()
                sleepingSince = before
                try await sleep(Self.interval)
                sleepingSince = nil
                let slept = monotonicNanoseconds() - before
                samples.append(slept > asked ? slept - asked : 0)
            }
        }
    }

    /// Stops sampling and returns the lateness of every wake-up — including the one still
    /// awaited, if it is already overdue: a hub too busy to wake the probe at all must
    /// not look idle.
    public func stop() async -> LatencySummary {
        let asked = UInt64(Self.interval * 1e9)
        if let sleepingSince {
            let waited = monotonicNanoseconds() - sleepingSince
            if waited > asked { samples.append(waited - asked) }
        }
        try? await greenlet?.kill()
        greenlet = nil
        return LatencySummary(samples)
    }
}
