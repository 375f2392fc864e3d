import CLibuv

/// Watches one signal through libuv's signal handles (never a raw `signal()` handler,
/// which would fight libuv's own). Hub-thread only; `close()` before dropping it.
@Hub
package final class SignalWatcher {
    private let handle: UnsafeMutablePointer<uv_signal_t>
    private var onSignal: (Int32) -> Void
    private var closed = false

    /// Starts watching `signal`; `onSignal` runs on the hub each time it arrives.
    /// `keepsLoopAlive: false` lets the loop end while only this watcher is left.
    package init(signal: Int32, keepsLoopAlive: Bool = false, _ onSignal: @escaping (Int32) -> Void) throws(HubError) {
        handle = .allocate(capacity: 1)
        self.onSignal = onSignal
        uv_signal_init(LoopExecutor.shared.loop, handle)
        handle.pointee.data = Unmanaged.passUnretained(self).toOpaque()
        let rc = uv_signal_start(handle, { handle, signal in
            let watcher = Unmanaged<SignalWatcher>.fromOpaque(handle!.pointee.data).takeUnretainedValue()
            Hub.assumeIsolated { watcher.onSignal(signal) }
        }, signal)
        if rc != 0 {
            closeHandle(handle)
            closed = true
            throw HubError(code: rc, operation: "watch signal \(signal)")
        }
        if !keepsLoopAlive {
            uv_unref(UnsafeMutableRawPointer(handle).assumingMemoryBound(to: uv_handle_t.self))
        }
    }

    /// Stops watching and frees the handle.
    package func close() {
        guard !closed else { return }
        closed = true
        onSignal = { _ in }
        closeHandle(handle)
    }
}
