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
    static let protocolVersion = 2

    /// Names the worker's started-jobs counter: shared memory holding how many jobs the
    /// worker has started (jobs run in the order sent), read by the parent when the worker
    /// dies to tell the jobs that started (they fail) from those that never did (re-queued).
    static let startedMarker = "SPROUT_WORKER_STARTED"

    /// This worker's started-jobs counter, mapped on first use for the rest of its life;
    /// `nil` outside a worker. A global holds the mapping, so it is never unmapped and
    /// LeakSanitizer sees who owns it.
    static let startedCounter: SharedRegion? = getenv(startedMarker).flatMap { value in
        try? SharedRegion(opening: String(cString: value))
    }

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
