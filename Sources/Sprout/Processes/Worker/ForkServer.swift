import CSproutLinux
import Glibc
import Synchronization

/// The fork server: a small process, forked from the program while it is still
/// single-threaded (``ProcessPool/serveIfWorker(jobs:coder:)`` does it), that forks pool
/// workers on request. A worker forked from it is ready in about a millisecond whatever the
/// program links, where running the program again costs its whole start-up; forking the
/// program itself later is unsafe, as its hub and Swift's pool have threads by then
/// (Python's `forkserver` start method, for the same reasons).
///
/// It forks each worker before it is asked for it: a spare (``Spare``) waits, forked and
/// with its serving thread started, and the next request is handed to it, so a worker's
/// start or a killed worker's replacement waits for no fork.
///
/// The server forks each worker as its own sibling (`CLONE_PARENT`): the worker is the
/// parent's child, so the parent reaps it and reads its exit status and signal itself
/// (``ForkedChild``), and the server's death (the chaos test kills it) leaves the workers
/// where they are. The parent therefore needs no child subreaper setting, which would also
/// make it adopt every daemonizing descendant (a `pg_ctl start`-ed postmaster) and keep
/// each as a zombie once it ended. The server exits when the parent closes the control
/// socket. This side runs in the server and the workers; the parent's side is
/// ``ForkServerConnection``.
enum ForkServer {
    /// Set in a program started again as a fork server; its value is the control socket's
    /// descriptor.
    static let marker = "SPROUT_FORK_SERVER_FD"
    /// `SPROUT_FORK_SERVER=0` turns the early fork server off: workers are then started by
    /// running the program again.
    static let switchMarker = "SPROUT_FORK_SERVER"
    /// The descriptor a fork server started again finds its control socket on.
    static let controlFD: Int32 = 3
    /// Set by the parent in a program it starts again as a fork server: the wire protocol
    /// the parent speaks (``WorkerEnvironment/protocolVersion``). The server forks spares
    /// only for a parent of its own protocol: a parent of another build (`executable:` names
    /// another program) would not adopt them (``ForkServerMessage``'s `p`), and each would
    /// stay its zombie; it refuses the workers anyway, at their hello, naming both versions.
    static let protocolMarker = "SPROUT_FORK_SERVER_PROTOCOL"

    /// Whether the parent that started this program as a fork server speaks this build's
    /// wire protocol (``protocolMarker``).
    static var parentSpeaksThisProtocol: Bool {
        getenv(protocolMarker).flatMap { Int(String(cString: $0)) } == WorkerEnvironment.protocolVersion
    }

    /// The control socket's descriptor when this program was started as a fork server.
    static var controlFromEnvironment: Int32? {
        getenv(marker).flatMap { Int32(String(cString: $0)) }
    }

    /// The control socket and pid of the server forked at start-up, until the hub takes them.
    private static let early = Mutex<(control: Int32, pid: Int32)?>(nil)

    /// The early server's control socket and pid, once (the hub's connection owns them after).
    static func takeEarly() -> (control: Int32, pid: Int32)? {
        early.withLock { server in
            defer { server = nil }
            return server
        }
    }

    /// Forks the early fork server, if this process is single-threaded and it is not turned
    /// off. Any failure leaves workers to be started by running the program again.
    static func startEarly(jobs: [String: RegisteredJob], coder: any ProcessCoder) {
        if let value = getenv(switchMarker), String(cString: value) == "0" { return }
        guard threadCount() == 1 else { return }
        var pair: [Int32] = [-1, -1]
        guard socketpair(AF_UNIX, SocketPairKind.seqpacket, 0, &pair) == 0 else { return }
        let pid = fork()
        if pid == 0 {
            close(pair[0])
            serve(control: pair[1], jobs: jobs, coder: coder, forksSpares: true)
        }
        close(pair[1])
        guard pid > 0 else {
            close(pair[0])
            return
        }
        early.withLock { $0 = (pair[0], pid) }
    }

    /// The server's loop: hands each request to the spare (or forks a worker for it when
    /// there is none), forks the next spare once no request waits, and exits when the parent
    /// closes the control socket. Spares are forked only if `forksSpares` (the parent adopts
    /// them), and only while some pool of the parent may need one: from the start and from
    /// each request on, not after the parent said none does (`n`, its last pool ended).
    static func serve(control: Int32, jobs: [String: RegisteredJob], coder: any ProcessCoder, forksSpares: Bool) -> Never {
        // The terminal's Ctrl-C reaches the whole process group: the parent decides.
        signal(SIGINT, SIG_IGN)
        signal(SIGPIPE, SIG_IGN)
        // A group of its own, which the workers it forks are in until they serve (a worker
        // then leads a group of its own, after it has told the parent its pid): a worker
        // whose pid never reached the parent can still be found and reaped there
        // (``ForkServerConnection``).
        setpgid(0, 0)
        // The server holds none of the parent's files: a reader of the parent's output sees
        // its end when the parent (and its workers) are done, not when the server is.
        let null = open("/dev/null", O_RDWR | O_CLOEXEC)
        for fd: Int32 in 0...2 { dup2(null, fd) }
        close(null)
        _ = fcntl(control, F_SETFL, fcntl(control, F_GETFL) & ~O_NONBLOCK)
        let hello = warmUp(jobs: jobs, coder: coder)
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: ForkServerMessage.maxBytes, alignment: 8)
        var spare: Spare?
        var sparesWanted = forksSpares
        while true {
            // The next spare is forked once no request came for a millisecond: requests that
            // come together (a pool's first workers) are forked at once, neither held up by
            // nor sharing the CPUs with a fork for later.
            if spare == nil, sparesWanted, !hasInput(control, within: spareDelay) {
                spare = Spare.start(control: control, jobs: jobs, coder: coder, hello: hello)
            }
            switch ForkServerMessage.receive(on: control, buffer: buffer) {
            case .end:
                // The parent is gone or done; the workers notice on their own channels.
                exit(0)
            case .nothing, .invalid:
                continue
            case .message(let request) where request.kind == .dropSpare:
                // The parent's last pool ended: no idle worker-sized process stays with it.
                for fd in request.descriptors { close(fd) }
                spare.take()?.drop()
                sparesWanted = false
            case .message(let request):
                guard request.kind == .startWorker, request.descriptors.count == 4, let sequence = request.numbers.first else {
                    for fd in request.descriptors { close(fd) }
                    continue
                }
                sparesWanted = forksSpares
                // The spare becomes the worker: no fork while the parent waits.
                if let taken = spare.take() {
                    if taken.hand(request) {
                        for fd in request.descriptors { close(fd) }
                        _ = ForkServerMessage(kind: .started, numbers: [sequence, taken.pid]).send(on: control)
                        continue
                    }
                    // The spare is gone (killed): the worker is forked as without one.
                }
                let pid = sprout_fork_sibling()
                if pid == 0 {
                    // Said by the worker too: a server killed between the fork and its own
                    // answer leaves no child the parent does not know of. A copy the parent
                    // has no use for is dropped there; a full socket drops it here.
                    _ = ForkServerMessage(kind: .started, numbers: [sequence, getpid()]).send(on: control, waiting: false)
                    becomeWorker(descriptors: request.descriptors,
                                 environment: request.payload[ForkServerMessage.sequenceBytes...],
                                 jobs: jobs, coder: coder, hello: hello)
                }
                let failure = errno
                for fd in request.descriptors { close(fd) }
                _ = ForkServerMessage(kind: pid > 0 ? .started : .failed, numbers: [sequence, pid > 0 ? pid : failure])
                    .send(on: control)
            }
        }
    }

    /// Does once what every worker does first, so each fork inherits the result: a process's
    /// first JSON encode and decode cost about 0.6 ms (type metadata, conformance lookups),
    /// a third of a worker's whole start. Returns the workers' hello frame, the same for
    /// all. No thread is started: the server must stay single-threaded to fork.
    private static func warmUp(jobs: [String: RegisteredJob], coder: any ProcessCoder) -> [UInt8] {
        let hello = WorkerHello.frame(serving: jobs)
        _ = WorkerHello(Array(hello[Frame.headerSize...]))
        for job in jobs.values { job.warmUp(coder) }
        return hello
    }

    /// In the forked worker: takes its descriptors and environment (``takeOver(descriptors:environment:)``)
    /// and serves.
    private static func becomeWorker(descriptors: [Int32], environment: ArraySlice<UInt8>, jobs: [String: RegisteredJob],
                                     coder: any ProcessCoder, hello: [UInt8]) -> Never {
        takeOver(descriptors: descriptors, environment: environment)
        // Swift's runtime locks record their owner by thread id, cached per thread, and this
        // thread's cache holds the id of the thread that forked the server (fork copies it):
        // a lock this thread held while another waited could never be released (seen: the
        // hub's start deadlocked in a worker). A new thread has an id and cache of its own,
        // so the worker runs there and this thread only waits.
        let rc = startDetachedThread {
            WorkerLoop(channel: WorkerEnvironment.channelFD, jobs: jobs, coder: coder, hello: hello).serve()
        }
        if rc != 0 { _exit(70) }
        while true { pause() }
    }

    /// In a new worker: puts its descriptors where a worker expects them (stdout, stderr,
    /// channel 3, descriptor channel 4), closes the rest (the server's sockets among them)
    /// and makes the parent's environment its own.
    static func takeOver(descriptors: [Int32], environment: ArraySlice<UInt8>) {
        // Moved above the targets first, so no dup2 overwrites a descriptor still to move.
        let moved = descriptors.map { fcntl($0, F_DUPFD, 10) }
        for (fd, target) in zip(moved, [1, 2, WorkerEnvironment.channelFD, WorkerEnvironment.descriptorFD] as [Int32]) {
            dup2(fd, target)
        }
        _ = sprout_close_from(WorkerEnvironment.descriptorFD + 1)
        install(environment: environment)
    }

    /// Makes `environment` (`NAME=value` strings, each ended by a NUL) this process's whole
    /// environment: one copy of the bytes and an array of pointers into it, which `environ`
    /// takes as it is, both kept for the worker's life. A `putenv` per string cost a tenth
    /// of a millisecond of a worker's start (each scans those before it, and each string
    /// went through a Swift `String`).
    private static func install(environment: ArraySlice<UInt8>) {
        clearenv()
        let count = environment.count
        guard count > 0, let bytes = malloc(count)?.assumingMemoryBound(to: CChar.self) else { return }
        environment.withUnsafeBytes { _ = memcpy(bytes, $0.baseAddress!, count) }
        var starts: [Int] = []
        var start = 0
        for index in 0..<count where bytes[index] == 0 {
            if index > start { starts.append(start) }
            start = index + 1
        }
        // A last string without its NUL is left out rather than read past the copy.
        let table = UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>.allocate(capacity: starts.count + 1)
        for (slot, offset) in starts.enumerated() { table[slot] = bytes + offset }
        table[starts.count] = nil
        sprout_set_environ(table)
    }

    /// How long the server waits for more requests before it forks the next spare (ms).
    private static let spareDelay: Int32 = 1

    /// Whether `socket` has something to read within `milliseconds`.
    private static func hasInput(_ socket: Int32, within milliseconds: Int32) -> Bool {
        var poller = pollfd(fd: socket, events: Int16(POLLIN), revents: 0)
        while true {
            let ready = poll(&poller, 1, milliseconds)
            if ready >= 0 || errno != EINTR { return ready > 0 }
        }
    }

    /// How many threads this process has (forking is safe only with one).
    private static func threadCount() -> Int {
        guard let directory = opendir("/proc/self/task") else { return Int.max }
        defer { closedir(directory) }
        var count = 0
        while let entry = readdir(directory) {
            if entry.pointee.d_name.0 != CChar(UInt8(ascii: ".")) { count += 1 }
        }
        return count
    }
}
