import Glibc

/// The environment marker that makes a re-run of the program a pool worker.
enum WorkerEnvironment {
    /// Set in every worker's environment; its value is the channel's descriptor number.
    static let marker = "SPROUT_WORKER_FD"
    /// The descriptor a worker's channel lands on.
    static let channelFD: Int32 = 3
    /// The descriptor a worker receives passed descriptors on.
    static let descriptorFD: Int32 = 4
    /// Bumped when the wire format changes, so a stale worker binary is refused clearly.
    static let protocolVersion = 1

    /// Names the worker's running-job slot: shared memory holding the id of the job it is
    /// running (0 between jobs), read by the parent when the worker dies.
    static let runningMarker = "SPROUT_WORKER_RUNNING"

    /// Maps this worker's running-job slot for the rest of its life; `nil` outside a worker.
    static func openRunningJobSlot() -> UnsafeMutablePointer<UInt64>? {
        guard let value = getenv(runningMarker),
              let region = try? SharedRegion(opening: String(cString: value)) else { return nil }
        // Never released: the worker uses the slot until it exits.
        return Unmanaged.passRetained(region).takeUnretainedValue().base.bindMemory(to: UInt64.self, capacity: 1)
    }

    /// The channel descriptor when this process is a worker, else `nil`.
    static var workerChannel: Int32? {
        guard let value = getenv(marker) else { return nil }
        return Int32(String(cString: value))
    }
}
