import CSproutLinux
import Glibc

/// A process this program did not start itself but must watch: a worker forked by a fork
/// server as this program's child (``ForkServer``), or the early fork server. It is reaped
/// here through its pidfd, which gives its exit status and signal; signals go through the
/// pidfd too, so none can reach a later process that reuses the pid. Hub-thread only.
@Hub
final class ForkedChild {
    /// The process id.
    let pid: Int32
    private var pidfd: Int32
    /// How it ended, or `nil` while it runs.
    private(set) var exitStatus: ExitStatus?
    private var exitCallbacks: [(ExitStatus) -> Void] = []
    private var watcher: FDWatcher?

    /// Takes ownership of `pidfd`, which refers to `pid`, a child of this process.
    init(pid: Int32, pidfd: Int32) {
        self.pid = pid
        self.pidfd = pidfd
    }

    /// Calls `callback` on the hub when the process ends (at once if it has).
    func onExit(_ callback: @escaping (ExitStatus) -> Void) {
        if let exitStatus { callback(exitStatus); return }
        exitCallbacks.append(callback)
    }

    /// Sends `signal`; does nothing once the process has ended.
    ///
    /// - Throws: ``HubError`` if the signal cannot be sent.
    func signal(_ signal: Int32) throws(HubError) {
        guard exitStatus == nil, pidfd >= 0 else { return }
        if sprout_pidfd_send_signal(pidfd, signal) != 0 && errno != ESRCH {
            throw HubError(code: -errno, operation: "send \(signalName(signal)) to pid \(pid)")
        }
    }

    /// Reaps the process when it ends, which its exit callbacks then hear of.
    func reapHere() {
        guard exitStatus == nil, watcher == nil else { return }
        watcher = try? FDWatcher(fd: pidfd)
        // A worker's channel keeps the loop alive while it serves; the early server's
        // pidfd must not keep it alive for ever.
        watcher?.letLoopEnd()
        reap()
    }

    private func reap() {
        var signal: Int32 = 0
        var code: Int32 = 0
        switch sprout_reap_pidfd(pidfd, &signal, &code) {
        case 1:
            exited(signal != 0 ? .signaled(signal) : .exited(code))
        case 0:
            // The watcher holds this object until the process is reaped, even if nobody
            // else does: a child dropped unreaped would stay a zombie.
            watcher?.setCallback(events: .readable) { _, _ in self.reap() }
        default:
            // Reaped by someone else (a waitpid(-1) elsewhere in the program): its status is lost.
            exited(.exited(-1))
        }
    }

    private func exited(_ status: ExitStatus) {
        exitStatus = status
        watcher?.close()
        watcher = nil
        close(pidfd)
        pidfd = -1
        let callbacks = exitCallbacks
        exitCallbacks = []
        for callback in callbacks { callback(status) }
    }
}
