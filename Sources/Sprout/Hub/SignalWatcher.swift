/// Watches one signal through libuv's signal handles (never a raw `signal()` handler,
/// which would fight libuv's own). Every watcher of a signal shares one libuv handle
/// (``SignalHandle``), so each arrival reaches all of them in the same hub turn.
/// Hub-thread only; `close()` before dropping it.
@Hub
package final class SignalWatcher {
    /// The signal's one libuv handle, shared with its other watchers.
    let handle: SignalHandle
    private var onSignal: (Int32) -> Void
    /// Whether the loop stays alive for this watcher.
    let keepsLoopAlive: Bool
    private var closed = false

    /// Starts watching `signal`; `onSignal` runs on the hub each time it arrives.
    /// `keepsLoopAlive: false` lets the loop end while only this watcher is left.
    package init(signal: Int32, keepsLoopAlive: Bool = false, _ onSignal: @escaping (Int32) -> Void) throws(HubError) {
        self.onSignal = onSignal
        self.keepsLoopAlive = keepsLoopAlive
        handle = try SignalHandle.shared(for: signal)
        handle.add(self)
    }

    /// Runs `onSignal`; nothing once closed.
    func deliver(_ signal: Int32) {
        onSignal(signal)
    }

    /// Stops watching; the signal's handle closes with its last watcher.
    package func close() {
        guard !closed else { return }
        closed = true
        onSignal = { _ in }
        handle.remove(self)
    }
}
