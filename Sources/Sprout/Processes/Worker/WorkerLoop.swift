import Glibc
import FoundationEssentials

/// A worker's life: say hello, then read job frames and answer each, until the channel ends.
struct WorkerLoop {
    let channel: Int32
    let jobs: [String: RegisteredJob]
    let coder: any ProcessCoder
    /// The largest answer the parent accepts, in bytes.
    let outputLimit = WorkerEnvironment.outputLimit

    func serve() -> Never {
        signal(SIGINT, SIG_IGN)
        signal(SIGPIPE, SIG_IGN)
        watchForParentExit()
        // One task on this thread runs every job: a task made per job cost more than a
        // tiny job's whole round trip. A job's `async` `run()` may still await anything.
        WorkerExecutor().runToCompletion { await self.serveJobs() }
    }

    private func serveJobs() async -> Never {
        // Mapped before the hello: the parent removes the counter's name once it has that.
        let started = WorkerEnvironment.openStartedCounter()
        let hello = WorkerHello(version: WorkerEnvironment.protocolVersion, jobs: jobs.keys.sorted())
        var out: [UInt8] = []
        Frame.append(kind: .hello, id: 0, payload: Array((try? JSONEncoder().encode(hello)) ?? Data()), to: &out)
        send(out)
        out.removeAll(keepingCapacity: true)
        var reader = FrameReader()
        let chunk = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 16, alignment: 1)
        // Answers are gathered and written together: the started-jobs counter in shared
        // memory, not the answers, tells the parent which jobs a crash found started.
        var oldestUnsent: UInt64 = 0
        var lastJob: UInt64 = 0
        var spin = false
        while true {
            do {
                while let frame = try reader.next() {
                    // Answers wait for company only behind tiny jobs, and not for long.
                    if !out.isEmpty && (lastJob > Self.tinyJob || monotonicNanoseconds() - oldestUnsent > Self.maxAnswerDelay) {
                        send(out)
                        out.removeAll(keepingCapacity: true)
                    }
                    let began = monotonicNanoseconds()
                    // Bumped before the job runs, so a job the parent sees as not started
                    // never ran; the initializer is not one of the counted jobs.
                    if frame.kind != .initialize, let started { started.pointee &+= 1 }
                    WorkerEnvironment.runningJobID = frame.id
                    let (kind, payload) = await run(frame)
                    let finished = monotonicNanoseconds()
                    lastJob = finished - began
                    if out.isEmpty { oldestUnsent = finished }
                    Frame.append(kind: kind, id: frame.id, payload: payload, to: &out)
                    if out.count >= 1 << 16 {
                        send(out)
                        out.removeAll(keepingCapacity: true)
                    }
                }
            } catch {
                HubDiagnostics.report("Sprout worker \(getpid()): \(error); exiting")
                exit(70)
            }
            // Nothing more to run: the answers go out before the worker sleeps.
            if !out.isEmpty {
                send(out)
                out.removeAll(keepingCapacity: true)
            }
            let count = receive(into: chunk, spin: &spin)
            if count > 0 {
                reader.append(UnsafeRawBufferPointer(rebasing: chunk[0..<count]))
            } else if count == 0 || errno != EINTR {
                // The parent closed the channel or died: nothing more will come.
                exit(0)
            }
        }
    }

    /// Jobs shorter than this (ns) are tiny: their answers are written together.
    static let tinyJob: UInt64 = 50_000
    /// The oldest an unsent answer may be when the next job starts (ns). So an answer waits
    /// at most this long plus one job — and only when the jobs before were tiny.
    static let maxAnswerDelay: UInt64 = 200_000

    /// The longest a worker polls its channel before it sleeps (ns).
    static let spinLimit: UInt64 = 100_000

    /// Reads what the channel holds, waiting until something comes. Sleeping in `read`
    /// and being woken costs a context switch — tens of µs on a virtual machine, more than
    /// a small job's whole round trip — so when the last wait was short (`spin`), the
    /// worker first polls for up to ``spinLimit``, yielding its core to anything runnable.
    /// A spin that comes up empty turns spinning off until a wait is short again: an idle
    /// worker spins once, briefly, and then sleeps.
    private func receive(into chunk: UnsafeMutableRawBufferPointer, spin: inout Bool) -> Int {
        let idleSince = monotonicNanoseconds()
        if spin {
            repeat {
                let count = recv(channel, chunk.baseAddress, chunk.count, Int32(MSG_DONTWAIT))
                if count >= 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) { return count }
                sched_yield()
            } while monotonicNanoseconds() - idleSince < Self.spinLimit
        }
        let count = read(channel, chunk.baseAddress, chunk.count)
        spin = monotonicNanoseconds() - idleSince < Self.spinLimit
        return count
    }

    private func run(_ frame: Frame) async -> (FrameKind, [UInt8]) {
        guard frame.kind == .job || frame.kind == .initialize || frame.kind == .jobWithDescriptors else {
            HubDiagnostics.report("Sprout worker \(getpid()): unexpected \(frame.kind) frame from the parent; exiting")
            exit(70)
        }
        let name: String
        let body: ArraySlice<UInt8>
        var payload = frame.payload
        var descriptors: [Int32] = []
        if frame.kind == .jobWithDescriptors, let count = payload.first {
            payload.removeFirst()
            descriptors = DescriptorChannel.receive(on: WorkerEnvironment.descriptorFD)
            if descriptors.count != Int(count) {
                HubDiagnostics.report("Sprout worker \(getpid()): expected \(count) descriptors, got \(descriptors.count)")
            }
        }
        // Descriptors a job carries are open while it runs and closed after.
        defer { for fd in descriptors { close(fd) } }
        do {
            (name, body) = try Frame.splitJob(payload)
        } catch {
            HubDiagnostics.report("Sprout worker \(getpid()): \(error); exiting")
            exit(70)
        }
        guard let job = jobs[name] else {
            let failure = UnregisteredJob(job: name, registered: jobs.keys.sorted())
            return (.failure, RegisteredJob.encodeFailure(failure, coder: coder))
        }
        let (kind, answer) = await DescriptorTransfer.$received.withValue(descriptors) {
            await job.run(body, coder)
        }
        // The answer is checked here, where it was encoded: one too large for a frame fails
        // the job with a typed error instead of being refused (or wrapped) on the way.
        guard answer.count <= outputLimit else {
            let failure = JobOutputTooLarge(job: name, bytes: answer.count, limit: outputLimit)
            return (.failure, RegisteredJob.encodeFailure(failure, coder: coder))
        }
        return (kind, answer)
    }

    private func send(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let count = write(channel, buffer.baseAddress! + offset, buffer.count - offset)
                if count > 0 {
                    offset += count
                } else if count < 0 && errno == EINTR {
                    continue
                } else {
                    exit(0)
                }
            }
        }
    }

    /// A job may run for long without reading the channel, so a thread of its own notices
    /// the parent going away (the channel's peer closing) and ends the worker at once.
    private func watchForParentExit() {
        var thread = pthread_t()
        let rc = pthread_create(&thread, nil, { context in
            var poller = pollfd(fd: Int32(Int(bitPattern: context)), events: Int16(0x2000) /* POLLRDHUP: the peer closed */, revents: 0)
            while true {
                let ready = poll(&poller, 1, -1)
                if ready > 0 { _exit(0) }
                if ready < 0 && errno != EINTR { return nil }
            }
        }, UnsafeMutableRawPointer(bitPattern: Int(channel)))
        if rc == 0 { pthread_detach(thread) }
    }
}
