import FoundationEssentials
import Glibc
import Logging

/// A worker's life: say hello, then read job frames and answer each, until the channel ends.
struct WorkerLoop {
    let channel: Int32
    let jobs: [String: RegisteredJob]
    let coder: any ProcessCoder
    /// The hello frame (``WorkerHello/frame(serving:)``) it sends first.
    let hello: [UInt8]
    /// The largest answer the parent accepts, in bytes.
    let outputLimit = WorkerEnvironment.outputLimit

    /// A worker on `channel` serving `jobs` with `coder`; `hello` is its hello frame when
    /// made already (a fork server makes it once for all its workers).
    init(channel: Int32, jobs: [String: RegisteredJob], coder: any ProcessCoder, hello: [UInt8]? = nil) {
        self.channel = channel
        self.jobs = jobs
        self.coder = coder
        self.hello = hello ?? WorkerHello.frame(serving: jobs)
    }

    func serve() -> Never {
        // A process group of its own, which the parent ends with the worker: what the worker
        // starts — Swift's crash backtracer, a job's commands — dies with it instead of being
        // left behind (a backtracer whose worker was killed waits on it for ever).
        setpgid(0, 0)
        // And they do not hold the worker's channels, which would outlive the worker.
        for fd in [channel, WorkerEnvironment.descriptorFD] { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        WorkerEnvironment.serving.store(true, ordering: .releasing)
        signal(SIGINT, SIG_IGN)
        signal(SIGPIPE, SIG_IGN)
        watchForParentExit()
        // One task on this thread runs every job: a task made per job cost more than a
        // tiny job's whole round trip. A job's `async` `run()` may still await anything.
        WorkerExecutor().runToCompletion { await self.serveJobs() }
    }

    private func serveJobs() async -> Never {
        // Received and mapped before the hello, so before any job starts: the parent reads it.
        let ledger = WorkerEnvironment.openLedger()
        send(hello)
        var reader = FrameReader()
        let chunk = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 16, alignment: 1)
        // Answers are held back in the ledger's outbox and written together: a crash loses
        // none of them (the parent reads the outbox), and the started-jobs count tells the
        // parent which of the rest had started.
        var pace = AnswerPace()
        var spin = false
        while true {
            do {
                while let frame = try reader.next() {
                    if frame.kind == .jobChunk {
                        await serveChunk(try JobChunk.split(frame), ledger: ledger, pace: &pace)
                        continue
                    }
                    // The initializer is not one of the counted jobs.
                    let cancelled = begin(frame.id, first: true, counted: frame.kind != .initialize, ledger: ledger, pace: &pace)
                    let answer = await run(frame, cancelled: cancelled)
                    end(frame.id, answer, chunked: false, ledger: ledger, pace: &pace)
                }
            } catch {
                Logger(label: HubLogger.poolLabel).error("worker \(getpid()): \(error); exiting")
                exit(70)
            }
            // Nothing more to run: the answers go out before the worker sleeps.
            flush(ledger)
            let count = receive(into: chunk, spin: &spin)
            if count > 0 {
                reader.append(UnsafeRawBufferPointer(rebasing: chunk[0..<count]))
            } else if count == 0 || errno != EINTR {
                // The parent closed the channel or died: nothing more will come.
                exit(0)
            }
        }
    }

    /// When the answers held back were last empty and how long the last jobs ran (ns): what
    /// decides whether an answer waits for company.
    ///
    /// A chunk's jobs read the clock every `stride` jobs, not after each: a clock read costs
    /// tens of ns on a virtual machine, a tenth of a tiny job's whole cost in the worker.
    private struct AnswerPace {
        var oldestUnsent: UInt64 = 0
        /// How long the jobs between the last two clock reads ran together.
        var lastJob: UInt64 = 0
        /// The last clock read: when the jobs since began.
        var began: UInt64 = 0
        /// Jobs ended since `began`.
        var unclocked = 0
        /// Jobs between clock reads: 1 at a chunk's start, doubled while those between two
        /// reads stay well under ``WorkerLoop/tinyJob`` together, back to 1 after any that
        /// took longer.
        var stride = 1
        /// The coarse clock (``coarseNanoseconds()``) at the last clock read. Read after
        /// every job, it costs a few ns: a job between reads that takes a tick (a few ms)
        /// or more moves it, and the clock is read at once.
        var coarse: UInt64 = 0

        mutating func clock(_ now: UInt64) {
            began = now
            unclocked = 0
            coarse = coarseNanoseconds()
        }
    }

    /// The most jobs of a chunk between two clock reads. An answer waits for company behind
    /// tiny jobs only; but when a chunk's jobs turn longer than tiny yet shorter than a tick
    /// of the coarse clock after this many tiny ones, the first longer ones' answers may wait
    /// for up to this many jobs, and at most a tick, before a clock read notices.
    static let maxStride = 8

    /// A chunk's jobs are counted, run and answered one by one, like single jobs; only their
    /// answers share a frame, and the job type's code runs them all in one call.
    private nonisolated(nonsending) func serveChunk(_ batch: (name: String, items: JobChunk.Items),
                                                     ledger: WorkerLedger, pace: inout AnswerPace) async {
        guard let job = jobs[batch.name] else {
            for (index, item) in batch.items.enumerated() {
                let cancelled = begin(item.id, first: index == 0, counted: true, ledger: ledger, pace: &pace)
                let answer = await run(name: batch.name, job: nil, body: item.job, cancelled: cancelled)
                end(item.id, answer, chunked: true, ledger: ledger, pace: &pace)
            }
            return
        }
        await job.runEach(batch.items, coder, { index in
            let id = batch.items.id(index)
            guard begin(id, first: index == 0, counted: true, ledger: ledger, pace: &pace) else { return true }
            // Cancelled after it was sent: answered at once (see run(name:job:body:cancelled:)).
            end(id, .encoded(.failure, RegisteredJob.encodeFailure(JobCancelled(job: batch.name), coder: coder)), chunked: true,
                ledger: ledger, pace: &pace)
            return false
        }, { index, answer in
            end(batch.items.id(index), checked(answer, name: batch.name), chunked: true, ledger: ledger, pace: &pace)
        })
    }

    /// Before job `id` runs: sends the answers held back when they have waited long enough
    /// (`first`: the first job of a frame), then counts the job as started (unless not
    /// `counted`). Returns whether the job was cancelled before it started.
    private func begin(_ id: UInt64, first: Bool, counted: Bool, ledger: WorkerLedger, pace: inout AnswerPace) -> Bool {
        // A frame's later jobs start when the one before ended (end(_:_:chunked:ledger:pace:)
        // set `began`): one clock read per job, not two.
        if first {
            pace.clock(monotonicNanoseconds())
            // Each chunk reads the clock after its first job again: a chunk of slow jobs
            // after chunks of tiny ones has each answered as it ends.
            pace.stride = 1
        }
        // Answers wait for company only behind tiny jobs, and not for long; a chunk's tiny
        // jobs are answered together when it ends.
        if ledger.hasHeldBack && (pace.lastJob > Self.tinyJob || (first && pace.began - pace.oldestUnsent > Self.maxAnswerDelay)) {
            flush(ledger)
            pace.lastJob = 0
            pace.clock(monotonicNanoseconds())
        }
        // Counted before the job runs, so a job the parent sees as not started never ran.
        let cancelled = counted && ledger.start(id)
        WorkerEnvironment.runningJobID = id
        return cancelled
    }

    /// After job `id` ran: holds its answer back.
    private func end(_ id: UInt64, _ answer: RegisteredJob.Answer, chunked: Bool, ledger: WorkerLedger, pace: inout AnswerPace) {
        pace.unclocked += 1
        if chunked && pace.unclocked < pace.stride && coarseNanoseconds() == pace.coarse {
            // The last clock read is earlier than the answer: it may only be sent sooner.
            if !ledger.hasHeldBack { pace.oldestUnsent = pace.began }
        } else {
            let finished = monotonicNanoseconds()
            pace.lastJob = finished - pace.began
            if pace.lastJob > Self.tinyJob {
                pace.stride = 1
            } else if pace.lastJob * 4 <= Self.tinyJob {
                pace.stride = min(2 * pace.stride, Self.maxStride)
            }
            pace.clock(finished)
            if !ledger.hasHeldBack { pace.oldestUnsent = finished }
        }
        switch answer {
        case let .encoded(kind, payload):
            hold(kind, id: id, payload: payload, chunked: chunked, ledger: ledger)
        case let .decimal(output):
            DecimalText.with(output) { hold(.result, id: id, payload: $0, chunked: chunked, ledger: ledger) }
        }
    }

    /// Holds an answer back in the outbox — a chunk's in the open outcomes frame — or, when
    /// it does not fit even after a flush, sends it at once, as the answers before it were.
    private func hold(_ kind: FrameKind, id: UInt64, payload: some ContiguousBytes, chunked: Bool, ledger: WorkerLedger) {
        func commit() -> Bool {
            chunked ? ledger.commitOutcome(kind: kind, id: id, payload: payload) : ledger.commit(kind: kind, id: id, payload: payload)
        }
        if commit() { return }
        flush(ledger)
        if commit() { return }
        // A plain answer frame, even for a chunk's job: the parent takes it for the oldest
        // job it awaits either way, and it has no outcome header to push it past the limit.
        var out: [UInt8] = []
        payload.withUnsafeBytes { bytes in
            Frame.appendHeader(kind: kind, id: id, length: bytes.count, to: &out)
            out.append(contentsOf: bytes)
        }
        send(out)
    }

    /// Writes the answers held back in the outbox to the channel, then empties it. Killed
    /// between the two, the worker leaves answers the parent has already read: it skips
    /// them by their ids.
    private func flush(_ ledger: WorkerLedger) {
        ledger.closeChunk()
        let count = ledger.committed
        guard count > 0 else { return }
        send(UnsafeRawBufferPointer(start: ledger.outbox, count: count))
        ledger.clearOutbox()
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

    /// Runs the job a single-job frame carries.
    private nonisolated(nonsending) func run(_ frame: Frame, cancelled: Bool) async -> RegisteredJob.Answer {
        guard frame.kind == .job || frame.kind == .initialize || frame.kind == .jobWithDescriptors else {
            Logger(label: HubLogger.poolLabel).error("worker \(getpid()): unexpected \(frame.kind) frame from the parent; exiting")
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
                Logger(label: HubLogger.poolLabel).error("worker \(getpid()): expected \(count) descriptors, got \(descriptors.count)")
            }
        }
        // Descriptors a job carries are open while it runs and closed after.
        defer { for fd in descriptors { close(fd) } }
        do {
            (name, body) = try Frame.splitJob(payload)
        } catch {
            Logger(label: HubLogger.poolLabel).error("worker \(getpid()): \(error); exiting")
            exit(70)
        }
        return await DescriptorTransfer.$received.withValue(descriptors) {
            await run(name: name, job: jobs[name], body: body, cancelled: cancelled)
        }
    }

    /// Runs one job of type `name` (`job`, if registered) from its encoded `body`.
    private nonisolated(nonsending) func run(name: String, job: RegisteredJob?, body: ArraySlice<UInt8>, cancelled: Bool) async -> RegisteredJob.Answer {
        // Cancelled after it was sent: the parent has already ended it, the answer only
        // keeps the order of answers.
        if cancelled { return .encoded(.failure, RegisteredJob.encodeFailure(JobCancelled(job: name), coder: coder)) }
        guard let job else {
            let failure = UnregisteredJob(job: name, registered: jobs.keys.sorted())
            return .encoded(.failure, RegisteredJob.encodeFailure(failure, coder: coder))
        }
        return checked(await job.run(body, coder), name: name)
    }

    /// The answer of a job of type `name`, checked here, where it was encoded: one too large
    /// for a frame fails the job with a typed error instead of being refused (or wrapped) on
    /// the way.
    private func checked(_ answer: RegisteredJob.Answer, name: String) -> RegisteredJob.Answer {
        // An Int's digits always fit.
        guard case let .encoded(_, bytes) = answer, bytes.count > outputLimit else { return answer }
        let failure = JobOutputTooLarge(job: name, bytes: bytes.count, limit: outputLimit)
        return .encoded(.failure, RegisteredJob.encodeFailure(failure, coder: coder))
    }

    private func send(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { send($0) }
    }

    private func send(_ buffer: UnsafeRawBufferPointer) {
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
