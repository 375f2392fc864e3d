import CLibuv

/// The one libuv handle of a signal, shared by every ``SignalWatcher`` of it while it has
/// any. libuv's handler writes one message per handle for each arrival, and the hub may
/// read the first and run a turn of greenlets before the next is written: with a handle
/// per watcher, `Hub.run`'s default shutdown could see a SIGTERM a turn after the `Signals`
/// that claimed it had handled it and let go, and the program exited 143 as if nobody had
/// (the job queue host's drain). One handle gives each arrival to every watcher at once.
/// Hub-thread only.
@Hub
final class SignalHandle {
    /// The handles open now, by signal.
    private static var open: [Int32: SignalHandle] = [:]

    private let signal: Int32
    private let handle: UnsafeMutablePointer<uv_signal_t>
    private var watchers: [SignalWatcher] = []

    /// The open handle of `signal`, started now if it has none.
    ///
    /// - Throws: ``HubError`` if libuv cannot watch `signal` (`EINVAL` for SIGKILL or SIGSTOP).
    static func shared(for signal: Int32) throws(HubError) -> SignalHandle {
        if let shared = open[signal] { return shared }
        let shared = try SignalHandle(signal: signal)
        open[signal] = shared
        return shared
    }

    private init(signal: Int32) throws(HubError) {
        self.signal = signal
        handle = .allocate(capacity: 1)
        uv_signal_init(LoopExecutor.shared.loop, handle)
        handle.pointee.data = Unmanaged.passUnretained(self).toOpaque()
        let rc = uv_signal_start(handle, { handle, signal in
            let shared = Unmanaged<SignalHandle>.fromOpaque(handle!.pointee.data).takeUnretainedValue()
            Hub.assumeIsolated { shared.deliver(signal) }
        }, signal)
        if rc != 0 {
            closeHandle(handle)
            throw HubError(code: rc, operation: "watch signal \(signal)")
        }
    }

    /// Gives `watcher` the signal's arrivals from now on.
    func add(_ watcher: SignalWatcher) {
        watchers.append(watcher)
        keepLoopAliveIfWanted()
    }

    /// Stops giving `watcher` arrivals; the last one gone closes the handle.
    func remove(_ watcher: SignalWatcher) {
        watchers.removeAll { $0 === watcher }
        guard watchers.isEmpty else {
            keepLoopAliveIfWanted()
            return
        }
        Self.open[signal] = nil
        closeHandle(handle)
    }

    /// The loop stays alive while one watcher wants it to.
    private func keepLoopAliveIfWanted() {
        let raw = UnsafeMutableRawPointer(handle).assumingMemoryBound(to: uv_handle_t.self)
        if watchers.contains(where: \.keepsLoopAlive) { uv_ref(raw) } else { uv_unref(raw) }
    }

    private func deliver(_ signal: Int32) {
        // The watchers of this arrival, all before any greenlet runs; one that a callback
        // closes meanwhile hears nothing more.
        for watcher in watchers { watcher.deliver(signal) }
    }
}
