import CSproutLinux
import Glibc

/// The parent's side of a fork server (``ForkServer``): asks it for workers, which are this
/// program's children and reaped here (``ForkedChild``). The hub never waits on the server:
/// a request is sent without waiting and answered on the hub later (``RequestedChild``); a
/// server that does not answer in time (stopped, or too slow) is killed with its spares and
/// treated as dead. A dead server's pending requests run the program again, its workers go
/// on serving, and the next worker start runs the program again as a new fork server. One
/// per worker program. Hub-thread only.
@Hub
final class ForkServerConnection {
    private let control: Int32
    private var watcher: FDWatcher?
    /// The last request's number.
    private var sequence: Int32 = 0
    /// Requests not answered yet, by number. An answer to no pending request (the worker's
    /// own copy of its server's answer) is dropped.
    private var pending: [Int32: (child: RequestedChild, limit: HubTimer)] = [:]
    /// The pids of the workers (and spares) this server forked that the program knows of,
    /// until they end.
    private var announced: Set<Int32> = []
    /// The spares the server announced (``ForkServer/Spare``), this program's children, by
    /// pid: one becomes a worker when an answer names it. Kept after they end until the
    /// server announces the next, as an answer naming one can still come (the server hands
    /// a spare its request, then answers, then forks the next).
    private var spares: [Int32: ForkedChild] = [:]
    /// False from when the program's last pool ended until a worker is asked for again: a
    /// spare announced meanwhile is killed at once (``dropSpares()``).
    private var sparesWanted = true
    /// True once the server has answered: it is up, and answers within a fork's time.
    private var hasAnswered: Bool
    /// False once the server is gone or given up on: it takes no more requests. Its control
    /// socket stays open until every copy is closed, so a worker forked just before its
    /// server died still gets its answer through.
    private(set) var isOpen = true
    /// True once the server was given up on (``giveUp()``), which happens once.
    private var hasGivenUp = false
    /// The early server (this program's own child, reaped here) or one started again
    /// (reaped by libuv).
    private let server: any WorkerChild
    private static let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 16, alignment: 8)

    /// Servers by worker program: an entry stays once made, so a dead one is started again.
    private static var servers: [String: ForkServerConnection] = [:]
    /// How many pools that may ask a server for workers live, by worker program
    /// (``poolStarted(executable:)``, ``poolEnded(executable:)``).
    private static var livePools: [String: Int] = [:]

    /// A pool of `executable`'s workers starts: its server keeps a spare while it lives.
    static func poolStarted(executable: String) {
        livePools[executable, default: 0] += 1
    }

    /// A pool of `executable`'s workers has ended (no worker left, none to start). When it
    /// was the last, no pool needs a spare: the server is told to drop its spare and fork
    /// none until the next request, and the spares are killed here too. Returns them, to be
    /// waited for: a program whose last pool has shut down keeps no idle worker-sized
    /// process beside the server.
    static func poolEnded(executable: String) -> [ForkedChild] {
        let left = (livePools[executable] ?? 1) - 1
        livePools[executable] = left > 0 ? left : nil
        guard left <= 0, let server = servers[executable] else { return [] }
        return server.dropSpares()
    }

    /// The fork server to start a worker of `executable` with, or `nil` to run it again.
    /// `.automatic` uses the server this program forked at start-up (and its successors);
    /// `.forkServer` starts one when there is none.
    static func server(for executable: String, start: WorkerStart) -> ForkServerConnection? {
        if start == .spawn { return nil }
        if let server = servers[executable], server.isOpen { return server }
        if servers[executable] == nil, executable == ProcessPool.currentExecutable, let early = ForkServer.takeEarly() {
            let pidfd = sprout_pidfd_open(early.pid)
            if pidfd >= 0, let server = try? ForkServerConnection(control: early.control, server: ForkedChild(pid: early.pid, pidfd: pidfd),
                                                                 isUp: true) {
                servers[executable] = server
                return server
            }
            // It exits at its control socket's end: our child, reaped here.
            if pidfd >= 0 { close(pidfd) }
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
        for server in servers.values { server.closeControl() }
        servers = [:]
    }

    /// The pid of `executable`'s fork server, while one runs (for tests).
    static func serverPID(for executable: String) -> Int32? {
        servers[executable].flatMap { $0.isOpen ? $0.server.pid : nil }
    }

    /// The pids of the spares of `executable`'s fork server that have not ended (for tests).
    static func sparePIDs(for executable: String) -> [Int32] {
        servers[executable].map { $0.spares.values.filter { $0.exitStatus == nil }.map(\.pid) } ?? []
    }

    /// Watches `control` (which it owns) for the server's answers; `isUp` when the server is
    /// known to be running already (forked, not started again).
    ///
    /// - Throws: ``HubError`` if the socket cannot be watched (`control` is then closed).
    private init(control: Int32, server: any WorkerChild, isUp: Bool) throws(HubError) {
        self.control = control
        self.server = server
        hasAnswered = isUp
        _ = fcntl(control, F_SETFL, fcntl(control, F_GETFL) | O_NONBLOCK)
        do {
            watcher = try FDWatcher(fd: control)
        } catch {
            close(control)
            throw error
        }
        // A pool's workers keep the loop alive while they start; the server must not.
        watcher?.letLoopEnd()
        // The watcher holds this connection until its socket is closed, even once a newer
        // server has taken its place.
        watcher?.setCallback(events: .readable) { _, _ in self.readAnswers() }
        if let forked = server as? ForkedChild { forked.reapHere() }
        server.onExit { [weak self] _ in self?.serverEnded() }
    }

    /// Runs `executable` again as a fork server (it becomes one in its `serveIfWorker`).
    private convenience init(spawning executable: String) throws(HubError) {
        // The protocol marker lets the server fork spares: this program adopts them.
        let (child, control) = try Self.spawnServer(executable, protocolVersion: WorkerEnvironment.protocolVersion)
        do {
            try self.init(control: control, server: child, isUp: false)
        } catch {
            try? child.signal(SIGKILL)
            throw error
        }
    }

    /// Runs `executable` again as a fork server for a parent that says it speaks wire
    /// protocol `protocolVersion` (none: a parent that does not say, as builds before
    /// version 7); returns the server and this side's end of its control socket.
    ///
    /// - Throws: ``HubError`` if the socket or the process cannot be made.
    static func spawnServer(_ executable: String, protocolVersion: Int?) throws(HubError) -> (SpawnedChild, Int32) {
        var pair: [Int32] = [-1, -1]
        guard socketpair(AF_UNIX, SocketPairKind.seqpacket, 0, &pair) == 0 else {
            throw HubError(code: -errno, operation: "socketpair for a fork server")
        }
        var spec = ChildSpec(executable: executable)
        spec.environment = ProcessPool.inheritedEnvironment() + ["\(ForkServer.marker)=\(ForkServer.controlFD)"]
            + (protocolVersion.map { ["\(ForkServer.protocolMarker)=\($0)"] } ?? [])
        spec.stdio = [.ignore, .ignore, .inherit(2), .inherit(pair[1])]
        let child: SpawnedChild
        do {
            child = try SpawnedChild(spec)
        } catch {
            close(pair[0]); close(pair[1])
            throw error
        }
        close(pair[1])
        return (child, pair[0])
    }

    /// Asks the server to fork a worker of `executable` whose stdout, stderr, channel and
    /// descriptor channel are `descriptors` (in that order), with `environment` as its whole
    /// environment. Returns at once; the request learns its process on the hub later.
    ///
    /// - Throws: ``HubError`` if the server is gone or the request cannot be sent (the caller
    ///   then runs the program again).
    func startWorker(executable: String, environment: [String], descriptors: [Int32]) throws(HubError) -> RequestedChild {
        guard isOpen else { throw HubError(code: -EPIPE, operation: "ask a fork server that has ended for a worker") }
        let child = try RequestedChild(executable: executable, environment: environment, descriptors: descriptors)
        // The server forks spares again from this request on.
        sparesWanted = true
        sequence &+= 1
        var request = ForkServerMessage(kind: .startWorker, numbers: [sequence], descriptors: descriptors)
        for line in environment {
            request.payload.append(contentsOf: line.utf8)
            request.payload.append(0)
        }
        let code = request.send(on: control, waiting: false)
        guard code == 0 else {
            child.abandon()
            // A full socket: the server is behind; this one worker runs the program again.
            if code != EAGAIN { giveUp() }
            throw HubError(code: -code, operation: "ask the fork server for a worker")
        }
        // The answer comes within a fork's time, or a program's start for a server just
        // started again.
        let limit = Hub.schedule(after: hasAnswered ? Self.answerLimit : Self.startLimit) { [weak self] in
            self?.giveUp()
        }
        pending[sequence] = (child, limit)
        return child
    }

    /// Reads every answer waiting on the control socket.
    private func readAnswers() {
        while true {
            switch ForkServerMessage.receive(on: control, buffer: Self.buffer) {
            case .message(let answer):
                for fd in answer.descriptors { close(fd) }
                let numbers = answer.numbers
                if answer.kind == .spare, numbers.count == 1 {
                    hasAnswered = true
                    spares = spares.filter { $0.value.exitStatus == nil }
                    if let spare = announce(pid: numbers[0]) {
                        spares[spare.pid] = spare
                        // Forked before the server read that no pool needs it.
                        if !sparesWanted { try? spare.signal(SIGKILL) }
                    }
                    continue
                }
                guard numbers.count == 2, let (child, limit) = pending.removeValue(forKey: numbers[0]) else { continue }
                Hub.cancelTimer(limit)
                hasAnswered = true
                if answer.kind == .started, let forked = spares.removeValue(forKey: numbers[1]) ?? announce(pid: numbers[1]) {
                    child.forked(forked)
                } else {
                    child.runAgain()
                }
            case .invalid:
                continue
            case .nothing:
                return
            case .end:
                // The server and every worker it forked have closed their copies: no answer
                // can come any more, and no forked worker holds a pending request's
                // descriptors, so each runs the program again. A spare forked just before
                // the server died, whose announcement never came, is reaped here too.
                reapUnannounced()
                return closeControl()
            }
        }
    }

    /// Adopts `pid` (``adopt(pid:)``) as a process of this server that the program knows of.
    private func announce(pid: Int32) -> ForkedChild? {
        guard let forked = adopt(pid: pid) else { return nil }
        announced.insert(pid)
        forked.onExit { [weak self] _ in self?.announced.remove(pid) }
        return forked
    }

    /// The worker `pid`, this program's child: its pid cannot name another process before it
    /// is reaped here, so the pidfd opened from it is the worker's. `nil` if it cannot be
    /// watched (it is then killed and reaped).
    private func adopt(pid: Int32) -> ForkedChild? {
        let pidfd = sprout_pidfd_open(pid)
        guard pidfd >= 0 else {
            if errno != ESRCH {
                kill(pid, SIGKILL)
                var status: Int32 = 0
                waitpid(pid, &status, 0)
            }
            return nil
        }
        let child = ForkedChild(pid: pid, pidfd: pidfd)
        child.reapHere()
        return child
    }

    /// The server did not answer in time (stopped, too slow to be of use, or dead with its
    /// control socket still held): it takes no more requests and is killed with its spares;
    /// its pending requests run the program again once its control socket ends, or are
    /// abandoned if a forked worker still holds it after another limit.
    private func giveUp() {
        guard !hasGivenUp, watcher != nil else { return }
        // An answer already here is taken first: a spare it names is a worker now.
        readAnswers()
        guard watcher != nil else { return }
        hasGivenUp = true
        isOpen = false
        try? server.signal(SIGKILL)
        // No request reaches a spare once its server is gone, and each holds the control
        // socket until it sees its own socket's end: a stopped spare never does, a slow one
        // late (a ThreadSanitizer build's exit waits a second), and a pending request would
        // be abandoned, or, its server dead already, wait for ever. Killed, they let the
        // socket end now.
        _ = killSpares()
        _ = Hub.schedule(after: Self.answerLimit) { [weak self] in
            guard let self, self.watcher != nil else { return }
            self.reapUnannounced()
            for (child, _) in self.pending.values { child.abandon() }
            self.pending = [:]
            self.closeControl()
        }
    }

    /// No pool needs a spare any more: tells the server to drop its spare and fork none until
    /// the next request, and kills the spares (one announced later is killed as it is
    /// announced). Returns the spares killed.
    private func dropSpares() -> [ForkedChild] {
        sparesWanted = false
        guard watcher != nil else { return killSpares() }
        // A spare announced already is taken first, so it is killed and waited for too.
        readAnswers()
        // A full socket leaves the server its spare, which this kills: the next request's
        // hand-over then fails and the server forks the worker.
        if isOpen { _ = ForkServerMessage(kind: .dropSpare).send(on: control, waiting: false) }
        return killSpares()
    }

    /// SIGKILLs the spares that have not ended; returns them.
    private func killSpares() -> [ForkedChild] {
        let live = spares.values.filter { $0.exitStatus == nil }
        for spare in live { try? spare.signal(SIGKILL) }
        return live
    }

    /// The server ended (killed, or at its control socket's end). Its spares wait for a
    /// request it can no longer hand them; each exits when it sees its own socket's end,
    /// but a stopped one never does and would stay for the program's life (it also holds
    /// the control socket open). With no start pending none of them can be becoming a
    /// worker, so all are killed now; with one pending, the answer limit (``giveUp()``)
    /// kills them if no answer comes.
    private func serverEnded() {
        isOpen = false
        if watcher != nil { readAnswers() }
        if pending.isEmpty { _ = killSpares() }
    }

    /// Kills and reaps every process of the server's group that is this program's child and
    /// that the program never heard of: a worker forked just before its server died, killed
    /// before it could repeat the server's answer, or a spare whose announcement never left
    /// the server. Its pid reached nobody, so it would stay a zombie for the program's life.
    /// (The server leads the group; its workers leave it once they have told their pid.)
    private func reapUnannounced() {
        guard let directory = opendir("/proc") else { return }
        defer { closedir(directory) }
        let group = server.pid
        let parent = getpid()
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            guard let pid = Int32(name), pid != group, !announced.contains(pid),
                  Self.parentAndGroup(of: pid).map({ $0 == (parent, group) }) == true else { continue }
            // This program's child, so its pid cannot be reused before it is reaped here.
            try? adopt(pid: pid)?.signal(SIGKILL)
        }
    }

    /// The parent pid and process group of `pid`, from `/proc/<pid>/stat`.
    private static func parentAndGroup(of pid: Int32) -> (Int32, Int32)? {
        guard let bytes = readSmallFile("/proc/\(pid)/stat", limit: 512) else { return nil }
        // "pid (name) state ppid pgrp ...": the name may hold spaces and parentheses.
        guard let close = bytes.lastIndex(of: UInt8(ascii: ")")) else { return nil }
        let fields = bytes[(close + 1)...].split(separator: UInt8(ascii: " "))
        guard fields.count > 2, let ppid = Int32(String(decoding: fields[1], as: UTF8.self)),
              let pgrp = Int32(String(decoding: fields[2], as: UTF8.self)) else { return nil }
        return (ppid, pgrp)
    }

    /// The longest a running server may take to answer (s).
    private static let answerLimit = 1.0
    /// The longest a server started again may take to answer its first request (s).
    private static let startLimit = 10.0

    /// Closes the control socket (a live server exits at its end; its workers, this
    /// program's children, are not affected) and kills the spares; pending requests run the
    /// program again.
    private func closeControl() {
        isOpen = false
        guard let watcher else { return }
        // Nothing can hand them a request now; a stopped one would not see the server's end.
        _ = killSpares()
        watcher.close()
        self.watcher = nil
        close(control)
        let left = pending.values
        pending = [:]
        for (child, limit) in left {
            Hub.cancelTimer(limit)
            child.runAgain()
        }
    }
}
