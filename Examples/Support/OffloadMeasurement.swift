/// What one mode of the offload comparison measured.
public struct OffloadMeasurement: Sendable {
    /// The mode.
    public let mode: OffloadMode
    /// How many times the whole workload ran.
    public let rounds: Int
    /// Wall seconds per round.
    public let wallSeconds: Double
    /// CPU seconds per round: this process (every thread) plus its pool workers.
    public let cpuSeconds: Double
    /// The checksum every round produced (rounds that disagreed make it `nil`).
    public let checksum: UInt64?
    /// How late the hub's 10 ms probe woke; `nil` without the hub.
    public let lateness: LatencySummary?
    /// What the HTTP load client saw; `nil` without the hub or if it failed.
    public let http: LoadClient.Result?

    /// A measurement.
    public init(mode: OffloadMode, rounds: Int, wallSeconds: Double, cpuSeconds: Double,
                checksum: UInt64?, lateness: LatencySummary?, http: LoadClient.Result?) {
        self.mode = mode
        self.rounds = rounds
        self.wallSeconds = wallSeconds
        self.cpuSeconds = cpuSeconds
        self.checksum = checksum
        self.lateness = lateness
        self.http = http
    }
}
