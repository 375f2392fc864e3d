import Glibc

/// The environment marker that makes a re-run of the program a pool worker.
package enum WorkerEnvironment {
    /// Set in every worker's environment; its value is the channel's descriptor number.
    static let marker = "SPROUT_WORKER_FD"
    /// The descriptor a worker's channel lands on.
    static let channelFD: Int32 = 3
    /// The descriptor a worker receives passed descriptors on.
    static let descriptorFD: Int32 = 4
    /// Bumped when the wire format changes, so a stale worker binary is refused clearly.
    static let protocolVersion = 2

    /// Names the worker's started-jobs counter: shared memory holding how many jobs the
    /// worker has started (jobs run in the order sent), read by the parent when the worker
    /// dies to tell the jobs that started (they fail) from those that never did (re-queued).
    static let startedMarker = "SPROUT_WORKER_STARTED"

    /// Maps this worker's started-jobs counter for the rest of its life; `nil` outside a worker.
    static func openStartedCounter() -> UnsafeMutablePointer<UInt64>? {
        guard let value = getenv(startedMarker),
              let region = try? SharedRegion(opening: String(cString: value)) else { return nil }
        // Never released: the worker uses the slot until it exits.
        return Unmanaged.passRetained(region).takeUnretainedValue().base.bindMemory(to: UInt64.self, capacity: 1)
    }

    /// In a worker, the frame id of the job running now (0 for none): for code that speaks
    /// the wire format itself, such as the tests' misbehaving jobs. Only the worker's one
    /// job-running thread writes and reads it.
    package nonisolated(unsafe) static var runningJobID: UInt64 = 0

    /// Carries the pool's payload limit: a larger output is replaced by ``JobOutputTooLarge``.
    static let outputLimitMarker = "SPROUT_WORKER_MAX_OUTPUT"

    /// The largest output this worker may send, in bytes.
    static var outputLimit: Int {
        guard let value = getenv(outputLimitMarker), let limit = Int(String(cString: value)) else { return Frame.maxPayload }
        return min(max(limit, 64), Frame.maxPayload)
    }

    /// The channel descriptor when this process is a worker, else `nil`.
    static var workerChannel: Int32? {
        guard let value = getenv(marker) else { return nil }
        return Int32(String(cString: value))
    }
}
