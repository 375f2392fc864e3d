import CSproutLinux
import Glibc

extension ForkServer {
    /// The worker a fork server forks before it is asked for one: forked (as the parent's
    /// child, like every worker), with the thread that will serve started, it waits on a
    /// socket of its own for a worker's request. The server hands it the next request
    /// instead of forking, so the fork (half a millisecond of copying page tables here) and
    /// the new thread's start are off the path of a worker's start or replacement; the
    /// server then forks the next spare.
    ///
    /// A spare is no worker: the parent adopts it when the server announces it (to reap it),
    /// and no pool counts it until a request names it. It ends with its server: the end of
    /// its socket (the server exited or was killed) makes it exit, and the parent kills it
    /// then too (a stopped spare sees no end). It ends when the parent's last pool ends
    /// (``ForkServerMessage``'s `n`); the parent kills it as well and waits until it is
    /// reaped, so no pool leaves it behind. Its cost is one more process per fork server
    /// while a pool lives, most of its memory shared with the server (see
    /// ``ProcessPool/serveIfWorker(jobs:coder:)``).
    struct Spare {
        let pid: Int32
        /// The server's end of the spare's socket.
        private let socket: Int32

        /// Forks a spare and announces it to the parent on `control`; `nil` if it cannot be
        /// forked (requests are then forked as they come).
        static func start(control: Int32, jobs: [String: RegisteredJob], coder: any ProcessCoder, hello: [UInt8]) -> Spare? {
            var pair: [Int32] = [-1, -1]
            guard socketpair(AF_UNIX, SocketPairKind.seqpacket, 0, &pair) == 0 else { return nil }
            let pid = sprout_fork_sibling()
            if pid == 0 {
                close(pair[0])
                wait(on: pair[1], control: control, jobs: jobs, coder: coder, hello: hello)
            }
            close(pair[1])
            guard pid > 0 else {
                close(pair[0])
                return nil
            }
            // The spare is the parent's child from now on: the parent reaps it should it end
            // unused.
            _ = ForkServerMessage(kind: .spare, numbers: [pid]).send(on: control)
            return Spare(pid: pid, socket: pair[0])
        }

        /// Lets the spare go: it sees its socket's end and exits, and the parent reaps it.
        func drop() {
            close(socket)
        }

        /// Passes `request` (its descriptors too) to the spare, which becomes that worker;
        /// false if the spare is gone. The server keeps no copy of the spare's socket either
        /// way: a spare takes one request.
        func hand(_ request: ForkServerMessage) -> Bool {
            defer { close(socket) }
            return request.send(on: socket, waiting: false) == 0
        }

        /// In the spare: on a thread of its own (see ``ForkServer``'s `becomeWorker`), waits
        /// for a request on `socket` and becomes that worker, or exits when the server closes
        /// the socket first.
        private static func wait(on socket: Int32, control: Int32, jobs: [String: RegisteredJob], coder: any ProcessCoder,
                                 hello: [UInt8]) -> Never {
            let rc = startDetachedThread {
                let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: ForkServerMessage.maxBytes, alignment: 8)
                guard case .message(let request) = ForkServerMessage.receive(on: socket, buffer: buffer),
                      request.kind == .startWorker, request.descriptors.count == 4, let sequence = request.numbers.first else {
                    _exit(0)
                }
                // Said by the server too; said here as well, so a server killed between the
                // hand-over and its answer leaves no worker the parent does not know of.
                _ = ForkServerMessage(kind: .started, numbers: [sequence, getpid()]).send(on: control, waiting: false)
                takeOver(descriptors: request.descriptors, environment: request.payload[ForkServerMessage.sequenceBytes...])
                buffer.deallocate()
                WorkerLoop(channel: WorkerEnvironment.channelFD, jobs: jobs, coder: coder, hello: hello).serve()
            }
            if rc != 0 { _exit(70) }
            while true { pause() }
        }
    }
}
