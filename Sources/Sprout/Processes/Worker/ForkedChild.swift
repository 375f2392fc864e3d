import CSproutLinux
import Glibc

/// A process this program did not start itself but must watch: a worker forked by a fork
/// server (or the early fork server). Its exit status comes from the fork server's report;
/// once that server is gone, the process is this program's child (a child subreaper, see
/// ``ForkServer``) and is reaped here through its pidfd. Signals go through the pidfd too,
/// so none can reach a later process that reuses the pid. Hub-thread only.
@Hub
final class ForkedChild {
    /// The process id.
    let pid: Int32
    private var pidfd: Int32
    /// How it ended, or `nil` while it runs.
    private(set) var exitStatus: ExitStatus?
    private var exitCallbacks: [(ExitStatus) -> Void] = []
    private var watcher: FDWatcher?
    private var retry: HubTimer?
    private var adoptionDeadline: UInt64 = 0

    /// Takes ownership of `pidfd`, which refers to `pid`.
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

    /// Records how the process ended (its fork server's report, or reaped here).
    func exited(_ status: ExitStatus) {
        guard exitStatus == nil else { return }
        exitStatus = status
        watcher?.close()
        watcher = nil
        if let retry { Hub.cancelTimer(retry) }
        retry = nil
        close(pidfd)
        pidfd = -1
        let callbacks = exitCallbacks
        exitCallbacks = []
        for callback in callbacks { callback(status) }
    }

    /// Reaps the process here when it ends: it is this program's child (the early fork
    /// server), or is about to become one (its fork server died, and orphans come to a
    /// child subreaper).
    func reapHere() {
        guard exitStatus == nil, watcher == nil, retry == nil else { return }
        adoptionDeadline = monotonicNanoseconds() + Self.adoptionLimit
        watcher = try? FDWatcher(fd: pidfd)
        // A worker's channel keeps the loop alive while it serves; the early server's
        // pidfd must not keep it alive for ever.
        watcher?.letLoopEnd()
        reap()
    }

    /// How long an ended process may take to be re-parented here (ns): its server's exit
    /// closes the control socket before it hands its children over.
    private static let adoptionLimit: UInt64 = 5_000_000_000

    private func reap() {
        retry = nil
        guard exitStatus == nil else { return }
        var signal: Int32 = 0
        var code: Int32 = 0
        let reaped = sprout_reap_pidfd(pidfd, &signal, &code)
        if reaped == 1 {
            exited(signal != 0 ? .signaled(signal) : .exited(code))
            return
        }
        let ended = reaped < 0 && errno == ECHILD && hasEnded
        if !ended {
            // Running (whoever its parent is): the pidfd turns readable when it ends.
            watcher?.setCallback(events: .readable) { [unowned self] _, _ in reap() }
            return
        }
        // Ended, and not handed over yet: polled briefly (the pidfd stays readable, so
        // watching it would spin) until it is.
        watcher?.stopCallbacks()
        if monotonicNanoseconds() < adoptionDeadline {
            retry = Hub.schedule(after: 0.001) { [weak self] in self?.reap() }
        } else {
            // Never handed over (the subreaper setting was refused): its status is lost.
            exited(.exited(-1))
        }
    }

    /// Whether the process has ended (its pidfd is readable).
    private var hasEnded: Bool {
        var poller = pollfd(fd: pidfd, events: Int16(POLLIN), revents: 0)
        return poll(&poller, 1, 0) > 0
    }
}
