import CSproutLinux
import Glibc

/// The parent's side of a fork server (``ForkServer``): asks it for workers, which are this
/// program's children and reaped here (``ForkedChild``). One per worker program; if the
/// server dies, its workers go on serving and the next worker start runs the program again
/// as a new fork server. Hub-thread only.
@Hub
final class ForkServerConnection {
    private let control: Int32
    /// The last request's number: an answer to an earlier one (the worker's own copy of its
    /// server's answer) is dropped.
    private var sequence: Int32 = 0
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
            if pidfd >= 0 {
                let server = ForkServerConnection(control: early.control, server: ForkedChild(pid: early.pid, pidfd: pidfd))
                servers[executable] = server
                return server
            }
            // It exits at its control socket's end: our child, reaped here.
            close(early.control)
            var status: Int32 = 0
            waitpid(early.pid, &status, 0)
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

    private init(control: Int32, server: any WorkerChild) {
        self.control = control
        self.server = server
        _ = fcntl(control, F_SETFL, fcntl(control, F_GETFL) | O_NONBLOCK)
        if let forked = server as? ForkedChild { forked.reapHere() }
        server.onExit { [weak self] _ in self?.lost() }
    }

    /// Runs `executable` again as a fork server (it becomes one in its `serveIfWorker`).
    private convenience init(spawning executable: String) throws(HubError) {
        var pair: [Int32] = [-1, -1]
        guard socketpair(AF_UNIX, SocketPairKind.seqpacket, 0, &pair) == 0 else {
            throw HubError(code: -errno, operation: "socketpair for a fork server")
        }
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
        self.init(control: pair[0], server: child)
    }

    /// Forks a worker whose stdout, stderr, channel and descriptor channel are
    /// `descriptors` (in that order), with `environment` as its whole environment.
    ///
    /// - Throws: ``HubError`` if the server is gone or cannot fork (the caller then runs
    ///   the program again).
    func startWorker(environment: [String], descriptors: [Int32]) throws(HubError) -> ForkedChild {
        guard isOpen else { throw HubError(code: -EPIPE, operation: "ask a fork server that has ended for a worker") }
        dropStaleAnswers()
        sequence &+= 1
        var request = ForkServerMessage(kind: .startWorker, numbers: [sequence], descriptors: descriptors)
        for line in environment {
            request.payload.append(contentsOf: line.utf8)
            request.payload.append(0)
        }
        let code = request.send(on: control)
        guard code == 0 else {
            lost()
            throw HubError(code: -code, operation: "ask the fork server for a worker")
        }
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
            case .message(let answer):
                for fd in answer.descriptors { close(fd) }
                let numbers = answer.numbers
                guard numbers.count == 2, numbers[0] == sequence else { continue }
                guard answer.kind == .started else {
                    throw HubError(code: -numbers[1], operation: "fork a worker in the fork server")
                }
                return try adopt(pid: numbers[1])
            case .nothing, .invalid:
                continue
            case .end:
                lost()
                throw HubError(code: -EPIPE, operation: "ask the fork server for a worker (it ended)")
            }
        }
    }

    /// The worker `pid`, this program's child: its pid cannot name another process before it
    /// is reaped here, so the pidfd opened from it is the worker's.
    private func adopt(pid: Int32) throws(HubError) -> ForkedChild {
        let pidfd = sprout_pidfd_open(pid)
        guard pidfd >= 0 else {
            let code = errno
            if code != ESRCH {
                kill(pid, SIGKILL)
                var status: Int32 = 0
                waitpid(pid, &status, 0)
            }
            throw HubError(code: -code, operation: "open a pidfd for a forked worker")
        }
        let child = ForkedChild(pid: pid, pidfd: pidfd)
        child.reapHere()
        return child
    }

    /// Reads the answers left from earlier requests (each worker repeats its server's), so
    /// they never fill the socket.
    private func dropStaleAnswers() {
        while case .message(let stale) = ForkServerMessage.receive(on: control, buffer: Self.buffer) {
            for fd in stale.descriptors { close(fd) }
        }
    }

    /// The longest a start waits for the server's answer (ns).
    private static let answerLimit: UInt64 = 10_000_000_000

    /// The server is gone (or being closed): its control socket is closed, so a live server
    /// exits; its workers, this program's children, are not affected.
    private func lost() {
        guard isOpen else { return }
        isOpen = false
        close(control)
    }
}
