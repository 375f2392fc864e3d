import Glibc
import Synchronization

/// The environment marker that makes a re-run of the program a pool worker.
package enum WorkerEnvironment {
    /// Set in every worker's environment; its value is the channel's descriptor number.
    static let marker = "SPROUT_WORKER_FD"
    /// The descriptor a worker's channel lands on.
    static let channelFD: Int32 = 3
    /// The descriptor a worker receives passed descriptors on.
    static let descriptorFD: Int32 = 4
    /// Bumped when the wire format changes, so a stale worker binary is refused clearly
    /// (7: a fork server's spare, its `p` and `n` messages, ``ForkServerMessage``).
    static let protocolVersion = 7

    /// Says the worker has a ``WorkerLedger`` (shared memory where it counts the jobs it
    /// starts, finds the jobs cancelled after they were sent, and holds back answers); its
    /// value is the descriptor whose first datagram carries the ledger, which has no name.
    static let ledgerMarker = "SPROUT_WORKER_LEDGER"

    /// The shared memory of this worker's ledger, received and mapped on first use and held
    /// by this global for the worker's whole life (so never unmapped, and LeakSanitizer sees
    /// its owner); `nil` outside a pool worker.
    private static let ledgerRegion: SharedRegion? = getenv(ledgerMarker).flatMap { value in
        let passed = DescriptorChannel.receive(on: Int32(atoi(value)))
        for extra in passed.dropFirst() { close(extra) }
        return passed.first.flatMap { try? SharedRegion(descriptor: $0, atLeast: WorkerLedger.size) }
    }

    /// This worker's ledger; a private one (nobody reads it after a crash) outside a pool
    /// worker.
    static func openLedger() -> WorkerLedger {
        if let region = ledgerRegion { return WorkerLedger(base: region.base) }
        let base = UnsafeMutableRawPointer.allocate(byteCount: WorkerLedger.size, alignment: 16)
        base.initializeMemory(as: UInt8.self, repeating: 0, count: WorkerLedger.size)
        return WorkerLedger(base: base)
    }

    /// In a worker, the frame id of the job running now (0 for none): for code that speaks
    /// the wire format itself, such as the tests' misbehaving jobs. Only the worker's one
    /// job-running thread writes and reads it.
    // Written per job: a run-time exclusivity check would cost more than the store.
    @exclusivity(unchecked) package nonisolated(unsafe) static var runningJobID: UInt64 = 0

    /// Carries the pool's payload limit: a larger output is replaced by ``JobOutputTooLarge``.
    static let outputLimitMarker = "SPROUT_WORKER_MAX_OUTPUT"

    /// The largest output this worker may send, in bytes.
    static var outputLimit: Int {
        guard let value = getenv(outputLimitMarker), let limit = Int(String(cString: value)) else { return Frame.maxPayload }
        return min(max(limit, 64), Frame.maxPayload)
    }

    /// Set once this worker serves jobs (``WorkerLoop/serve()``): a pool made after that is a
    /// job's own, before it the program's main running again in a worker.
    static let serving = Atomic<Bool>(false)

    /// The exit status of a worker whose program made a pool before it served jobs (its main
    /// does not call `serveIfWorker` first): 78, `EX_CONFIG` of sysexits.h.
    static let misconfiguredExitCode: Int32 = 78

    /// Ends a worker whose program runs its main again instead of serving (no
    /// `serveIfWorker` first): one line on stderr and exit status ``misconfiguredExitCode``,
    /// so the parent sees a start-up failure at once. Throwing instead would end the worker
    /// with an uncaught error — a trap, and Swift's crash backtrace, about 0.4 s each.
    static func exitIfNotServing() {
        guard workerChannel != nil, !serving.load(ordering: .acquiring) else { return }
        let message = "sprout: this pool worker is running main again and made a ProcessPool: main must call ProcessPool.serveIfWorker(jobs:) first thing\n"
        _ = message.withCString { write(2, $0, strlen($0)) }
        _exit(misconfiguredExitCode)
    }

    /// The channel descriptor when this process is a worker, else `nil`.
    static var workerChannel: Int32? {
        guard let value = getenv(marker) else { return nil }
        return Int32(String(cString: value))
    }
}
