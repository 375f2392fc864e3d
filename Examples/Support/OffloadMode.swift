/// One way of running the CPU workload in the offload comparison.
public enum OffloadMode: String, CaseIterable, Sendable {
    /// Plain sequential loop on the main thread, no hub: the baseline.
    case baseline
    /// Every piece computed in one greenlet on the hub, no switch until the round is done.
    case inline
    /// On the hub, with `sleep(0)` after every piece so other greenlets get a turn.
    case yielding = "sleep0"
    /// Each piece in ``offloadBlocking(_:)`` on Sprout's threads, `workers` at a time.
    case threads
    /// Each piece as a job in a ``ProcessPool`` of `workers` processes.
    case processes

    /// The row label in tables and charts.
    public var label: String {
        switch self {
        case .baseline: "baseline (no hub)"
        case .inline: "inline on the hub"
        case .yielding: "inline + sleep(0)"
        case .threads: "thread offload"
        case .processes: "process pool"
        }
    }

    /// Whether the mode runs with the hub, the probe and the HTTP load.
    public var usesHub: Bool { self != .baseline }
}
