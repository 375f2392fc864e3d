import CSproutLinux
import Glibc

/// The parent's side of a fork server (``ForkServer``): asks it for workers, and turns its
/// reports into each worker's exit. One per worker program; if the server dies, its
/// workers are reaped here and the next worker start runs the program again as a new
/// fork server. Hub-thread only.
@Hub
final class ForkServerConnection {
    private let control: Int32
    private var watcher: FDWatcher?
    private var children: [Int32: ForkedChild] = [:]
    /// Exit reports read while waiting for a start's answer, delivered right after it.
    private var pendingExits: [ForkServerMessage] = []
    /// False once the server is gone.
    private(set) var isOpen = true
    /// The early server (this program's own child, reaped here) or one started again
    /// (reaped by libuv).
    private let server: any WorkerChild
    private static let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 16, alignment: 8)

    /// Servers by worker program: an entry stays once made, so a dead one is started again.
    private static var servers: [String: ForkServerConnection] = [:]

    /// The fork server to start a worker of `executable` with, or `nil` to run it again.
    /// `.automatic` uses the server this program forked at start-up (and its successors);
    /// `.forkServer` starts one when there is none.
    static func server(for executable: String, start: WorkerStart) -> ForkServerConnection? {
        if start == .spawn { return nil }
        if let server = servers[executable], server.isOpen { return server }
        if servers[executable] == nil, executable == ProcessPool.currentExecutable, let early = ForkServer.takeEarly() {
            let pidfd = sprout_pidfd_open(early.pid)
            if pidfd >= 0, let server = try? ForkServerConnection(control: early.control, server: ForkedChild(pid: early.pid, pidfd: pidfd)) {
                servers[executable] = server
                return server
            }
            close(early.control)
            if pidfd >= 0 { close(pidfd) }
        }
        guard start == .forkServer || servers[executable] != nil else { return nil }
        guard let server = try? ForkServerConnection(spawning: executable) else { return nil }
        servers[executable] = server
        return server
    }

    /// Closes every connection: the servers exit (a test's clean-up; a program's end does it).
    static func closeAll() {
        for server in servers.values { server.lost() }
        servers = [:]
    }

    /// The pid of `executable`'s fork server, while one runs (for tests).
    static func serverPID(for executable: String) -> Int32? {
        servers[executable].flatMap { $0.isOpen ? $0.server.pid : nil }
    }

    private init(control: Int32, server: any WorkerChild) throws(HubError) {
        self.control = control
        self.server = server
        _ = fcntl(control, F_SETFL, fcntl(control, F_GETFL) | O_NONBLOCK)
        watcher = try FDWatcher(fd: control)
        watcher?.letLoopEnd()
        watcher?.setCallback(events: .readable) { [unowned self] _, _ in readReports() }
        if let forked = server as? ForkedChild { forked.reapHere() }
    }

    /// Runs `executable` again as a fork server (it becomes one in its `serveIfWorker`).
    private convenience init(spawning executable: String) throws(HubError) {
        var pair: [Int32] = [-1, -1]
        guard socketpair(AF_UNIX, SocketPairKind.seqpacket, 0, &pair) == 0 else {
            throw HubError(code: -errno, operation: "socketpair for a fork server")
        }
        _ = sprout_set_child_subreaper()
        var spec = ChildSpec(executable: executable)
        spec.environment = ProcessPool.inheritedEnvironment() + ["\(ForkServer.marker)=\(ForkServer.controlFD)"]
        spec.stdio = [.ignore, .ignore, .inherit(2), .inherit(pair[1])]
        let child: SpawnedChild
        do {
            child = try SpawnedChild(spec)
        } catch {
            close(pair[0]); close(pair[1])
            throw error
        }
        close(pair[1])
        do {
            try self.init(control: pair[0], server: child)
        } catch {
            try? child.signal(SIGKILL)
            close(pair[0])
            throw error
        }
        child.onExit { [weak self] _ in self?.lost() }
    }

    /// Forks a worker whose stdout, stderr, channel and descriptor channel are
    /// `descriptors` (in that order), with `environment` as its whole environment.
    ///
    /// - Throws: ``HubError`` if the server is gone or cannot fork (the caller then runs
    ///   the program again).
    func startWorker(environment: [String], descriptors: [Int32]) throws(HubError) -> ForkedChild {
        guard isOpen else { throw HubError(code: -EPIPE, operation: "ask a fork server that has ended for a worker") }
        var payload: [UInt8] = []
        for line in environment {
            payload.append(contentsOf: line.utf8)
            payload.append(0)
        }
        let code = ForkServerMessage(kind: .startWorker, payload: payload, descriptors: descriptors).send(on: control)
        guard code == 0 else {
            lost()
            throw HubError(code: -code, operation: "ask the fork server for a worker")
        }
        defer { if !pendingExits.isEmpty { _ = Hub.schedule(after: 0) { [weak self] in self?.deliverPendingExits() } } }
        // The answer comes within a fork's time (or a program start's, for a server just
        // started again): the hub waits for it the way uv_spawn waits for its exec.
        let deadline = monotonicNanoseconds() + Self.answerLimit
        while true {
            let now = monotonicNanoseconds()
            guard now < deadline else {
                lost()
                throw HubError(code: -ETIMEDOUT, operation: "wait for the fork server's answer")
            }
            var poller = pollfd(fd: control, events: Int16(POLLIN), revents: 0)
            let ready = poll(&poller, 1, Int32((deadline - now) / 1_000_000) + 1)
            if ready < 0 && errno != EINTR {
                lost()
                throw HubError(code: -errno, operation: "wait for the fork server's answer")
            }
            guard ready > 0 else { continue }
            switch ForkServerMessage.receive(on: control, buffer: Self.buffer) {
            case .message(let answer) where answer.kind == .started:
                guard answer.descriptors.count == 1, let pid = answer.numbers.first else {
                    for fd in answer.descriptors { close(fd) }
                    lost()
                    throw HubError(code: -EPROTO, operation: "read the fork server's answer")
                }
                let child = ForkedChild(pid: pid, pidfd: answer.descriptors[0])
                children[pid] = child
                return child
            case .message(let answer) where answer.kind == .failed:
                throw HubError(code: -(answer.numbers.first ?? EIO), operation: "fork a worker in the fork server")
            case .message(let report):
                pendingExits.append(report)
            case .nothing, .invalid:
                continue
            case .end:
                lost()
                throw HubError(code: -EPIPE, operation: "ask the fork server for a worker (it ended)")
            }
        }
    }

    /// The longest a start waits for the server's answer (ns).
    private static let answerLimit: UInt64 = 10_000_000_000

    private func readReports() {
        while isOpen {
            switch ForkServerMessage.receive(on: control, buffer: Self.buffer) {
            case .message(let report):
                for fd in report.descriptors { close(fd) }
                deliver(report)
            case .invalid:
                continue
            case .nothing:
                return
            case .end:
                lost()
            }
        }
    }

    private func deliverPendingExits() {
        let reports = pendingExits
        pendingExits = []
        for report in reports { deliver(report) }
    }

    private func deliver(_ report: ForkServerMessage) {
        let numbers = report.numbers
        guard report.kind == .exited, numbers.count == 3, let child = children.removeValue(forKey: numbers[0]) else { return }
        child.exited(numbers[1] != 0 ? .signaled(numbers[1]) : .exited(numbers[2]))
    }

    /// The server is gone (or being closed): its workers are reaped here from now on.
    private func lost() {
        guard isOpen else { return }
        isOpen = false
        watcher?.close()
        watcher = nil
        close(control)
        deliverPendingExits()
        let orphans = children.values
        children = [:]
        for child in orphans { child.reapHere() }
    }
}
