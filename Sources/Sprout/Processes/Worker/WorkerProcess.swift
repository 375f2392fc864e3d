import DequeModule
import Glibc
import Logging

/// The parent's side of one pool worker, and the one owner of the worker protocol: the
/// child process, its channel (a Unix socket), its standard error (passed through to ours,
/// the tail kept), the tasks sent to it, and its state machine
/// (starting → ready ⇄ busy → draining → dead). It checks every frame the worker sends —
/// the hello and its protocol version, the initializer's answer, that each answer is for
/// the job it was running — and reports events (``Event``) that ``ProcessPool``
/// (scheduling) and ``ChildProcess`` consume.
@Hub
final class WorkerProcess {
    enum Phase {
        /// Started, not yet said hello (or not yet through the initializer).
        case starting
        /// Serving, with no job sent.
        case ready
        /// Serving, with jobs sent and not answered.
        case busy
        /// Being stopped; takes no more jobs.
        case draining
        /// The process has exited.
        case dead
    }

    /// What the worker reports to its owner.
    enum Event {
        /// It said hello (and ran the initializer): it serves these job types.
        case ready(jobs: [String])
        /// It answered `task` with a result or a failure (``FrameKind/result`` or
        /// ``FrameKind/failure``, and the encoded bytes), after `seconds` of work.
        case answered(PoolTask, FrameKind, ArraySlice<UInt8>, seconds: Double)
        /// It answered `count` items of map chunks (``PoolTask/isChunk``), which were handed
        /// their outcomes already, after `seconds` of work each: one event per frame, not per
        /// item.
        case answeredItems(count: Int, seconds: Double)
    }

    let child: any WorkerChild
    /// The process id, or 0 while a fork server has not answered.
    var pid: Int32 { child.pid }
    /// The process the worker runs in, once known: forked by a fork server, or the program
    /// run again.
    var startedChild: (any WorkerChild)? {
        guard let requested = child as? RequestedChild else { return child }
        return requested.process
    }
    private(set) var phase = Phase.starting
    /// The phase the worker was in when it died, once it has.
    private(set) var diedIn: Phase?
    /// Tasks sent and not yet answered, oldest (the one running) first.
    var outstanding: Deque<PoolTask> { sent }
    private var sent = Deque<PoolTask>()
    /// Jobs sent and not yet answered: a single job counts one, a chunk its items.
    private(set) var outstandingItems = 0
    /// Whether the worker holds a request for the hub's ``PollSpin``: while it has tasks
    /// unanswered, since a small job's answer comes back sooner than the hub sleeps and wakes.
    private var holdsSpin = false
    /// Batches among `outstanding`.
    var batches = 0
    /// Jobs answered so far (a chunk's items one by one).
    var tasksDone = 0
    /// When the last answer (or the hello) arrived.
    private var lastAnswer: UInt64 = 0
    /// Set when the worker broke the protocol and is being killed for it.
    private(set) var violation: ChannelError?
    /// Set when the worker failed during start-up in a way its exit status does not say.
    private(set) var startFailure: String?
    private var timers: [HubTimer] = []
    /// The job every worker runs before any other, with its type name.
    private let initializer: (name: [UInt8], job: [UInt8])?
    private let coder: any ProcessCoder

    private let channel: Int32
    /// The shared memory behind ``ledger``.
    private let ledgerRegion: SharedRegion
    /// Where the worker counts the jobs it starts, finds cancelled ones, and holds back
    /// answers: what tells the parent, after a crash, which jobs ran.
    private let ledger: WorkerLedger
    /// Set when the channel ended inside a frame; a protocol violation unless a signal
    /// killed the worker mid-write.
    private var truncation: ChannelError?
    /// Where descriptors a job carries are sent, one datagram per job in the order of the
    /// jobs' frames (the worker takes a job's datagram when it starts that job).
    private var descriptorChannel: Int32
    /// Jobs whose descriptors wait for room on the descriptor channel, oldest first: sends
    /// never block the hub, and a full channel is watched until it drains.
    private var descriptorQueue = Deque<PoolTask>()
    private var descriptorWatcher: FDWatcher?
    private var channelWatcher: FDWatcher?
    private var stderrFD: Int32
    private var stderrWatcher: FDWatcher?
    private var tail = StderrTail()
    /// Receives each line the worker writes on its standard error, prefixed with its pid.
    private let logger: Logger
    /// The start of a stderr line whose end has not arrived yet.
    private var partialLine: [UInt8] = []
    private var reader = FrameReader()
    private var outbox: [UInt8] = []
    private var outboxHead = 0
    /// Frames assigned in this dispatch pass, sent together by ``sendAssigned()``.
    private var assigned: [UInt8] = []
    private static let readBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 16, alignment: 16)
    private var channelOpen = true
    /// True when a slice ended with whole frames perhaps left in the reader
    /// (``drainChannel(bounded:)``), until they are handed over.
    private var framesLeft = false
    /// True while a later turn is asked to hand those frames over.
    private var drainScheduled = false
    private let onEvent: (WorkerProcess, Event) -> Void
    private let afterFrames: () -> Void

    /// Starts `executable` as a worker — forked by its fork server when `start` finds one
    /// (``ForkServerConnection``), else by running it again; it must say hello within
    /// `startTimeout` seconds (no limit when `nil`), then runs `initializer` (if any) before
    /// it is ready.
    ///
    /// - Throws: ``HubError`` if the channel, the pipe or the process cannot be made.
    init(executable: String, environment: [String], start: WorkerStart = .automatic, startTimeout: Double? = nil,
         initializer: (name: [UInt8], job: [UInt8])? = nil, coder: any ProcessCoder, logger: Logger,
         onEvent: @escaping (WorkerProcess, Event) -> Void,
         afterFrames: @escaping () -> Void, onExit: @escaping (WorkerProcess, ExitStatus) -> Void) throws(HubError) {
        var pair: [Int32] = [-1, -1]
        guard socketpair(AF_UNIX, SocketPairKind.stream, 0, &pair) == 0 else {
            throw HubError(code: -errno, operation: "socketpair for a pool worker")
        }
        var errorPipe: [Int32] = [-1, -1]
        // A socket rather than a pipe: it can be made close-on-exec atomically.
        guard socketpair(AF_UNIX, SocketPairKind.stream, 0, &errorPipe) == 0 else {
            let code = -errno
            close(pair[0]); close(pair[1])
            throw HubError(code: code, operation: "pipe for a pool worker's stderr")
        }
        var passing: [Int32] = [-1, -1]
        guard socketpair(AF_UNIX, SocketPairKind.seqpacket, 0, &passing) == 0 else {
            let code = -errno
            for fd in pair + errorPipe { close(fd) }
            throw HubError(code: code, operation: "socketpair for a pool worker's descriptors")
        }
        let slot: SharedRegion
        do {
            // Unnamed, handed over as the descriptor channel's first datagram: a worker that
            // dies before its hello, or a program that ends or is killed before it, leaves
            // nothing in /dev/shm.
            slot = try SharedRegion(unnamedSize: WorkerLedger.size) { fd in DescriptorChannel.send([fd], on: passing[0]) }
        } catch {
            for fd in pair + errorPipe + passing { close(fd) }
            throw HubError(code: -error.code, operation: "shared memory for a pool worker")
        }
        ledgerRegion = slot
        ledger = WorkerLedger(base: slot.base)
        let workerEnvironment = environment + ["\(WorkerEnvironment.ledgerMarker)=\(WorkerEnvironment.descriptorFD)"]
        if let server = ForkServerConnection.server(for: executable, start: start),
           let requested = try? server.startWorker(executable: executable, environment: workerEnvironment,
                                                   descriptors: [1, errorPipe[1], pair[1], passing[1]]) {
            child = requested
        } else {
            // No fork server, or it failed: the program is run again, as without one.
            var spec = ChildSpec(executable: executable)
            spec.environment = workerEnvironment
            spec.stdio = [.ignore, .inherit(1), .inherit(errorPipe[1]), .inherit(pair[1]), .inherit(passing[1])]
            do {
                child = try SpawnedChild(spec)
            } catch {
                for fd in pair + errorPipe + passing { close(fd) }
                throw error
            }
        }
        close(pair[1])
        close(errorPipe[1])
        close(passing[1])
        descriptorChannel = passing[0]
        channel = pair[0]
        stderrFD = errorPipe[0]
        self.onEvent = onEvent
        self.afterFrames = afterFrames
        self.initializer = initializer
        self.coder = coder
        self.logger = logger
        _ = fcntl(channel, F_SETFL, fcntl(channel, F_GETFL) | O_NONBLOCK)
        _ = fcntl(stderrFD, F_SETFL, fcntl(stderrFD, F_GETFL) | O_NONBLOCK)
        _ = fcntl(descriptorChannel, F_SETFL, fcntl(descriptorChannel, F_GETFL) | O_NONBLOCK)
        channelWatcher = try FDWatcher(fd: channel)
        stderrWatcher = try FDWatcher(fd: stderrFD)
        lastAnswer = monotonicNanoseconds()
        stderrWatcher?.setCallback(events: .readable) { [unowned self] _, _ in drainStderr() }
        watchChannel()
        child.onExit { [self] status in
            // Whatever the worker started and left in its process group goes with it.
            kill()
            drainChannel(bounded: false)
            recoverHeldBackAnswers()
            if let truncation, violation == nil, startedUnanswered > 0 {
                // Cut off mid-write by a signal, the worker crashed; ending a frame short on
                // its own, it broke the protocol.
                if case .signaled = status {} else { violation = truncation }
            }
            drainStderr()
            closeChannel()
            closeStderr()
            for timer in timers { Hub.cancelTimer(timer) }
            timers = []
            diedIn = phase
            phase = .dead
            onExit(self, status)
        }
        if let startTimeout {
            timers.append(Hub.schedule(after: startTimeout) { [weak self] in
                guard let self, self.phase == .starting else { return }
                self.failStart("not ready within \(startTimeout) s (\(ProcessPoolError.serveIfWorkerHint))")
            })
        }
    }

    // A worker dropped with tasks still unanswered must not leave the hub spinning.
    isolated deinit {
        if holdsSpin { Hub.releasePollSpin() }
    }

    /// True once it said hello (and ran the initializer), until it is drained or dead.
    var isServing: Bool { phase == .ready || phase == .busy }

    /// True while the worker can be given jobs: serving, and its channel not at its end.
    var takesJobs: Bool { isServing && channelOpen && violation == nil }

    /// The last lines of the worker's standard error.
    var stderrText: String { tail.text }

    /// How many jobs the worker has started (it counts them in shared memory before running
    /// each); exact once it has died.
    var jobsStarted: Int { Int(truncatingIfNeeded: ledger.started) }

    /// How many of `outstanding`, from the oldest, the worker has started: run or running,
    /// their answers not yet read. Jobs run in the order sent, so the rest never started.
    var startedUnanswered: Int { min(max(jobsStarted - tasksDone, 0), outstandingItems) }

    // MARK: Sending

    /// Gives `tasks` to the worker as one batch; their frames go out with every other batch
    /// assigned in the same pass, in one write, at ``sendAssigned()``. A chunk's items not
    /// ended go in ``FrameKind/jobChunk`` frames of at most `frameLimit` payload bytes (an
    /// item that does not share one goes in a plain job frame). Returns how many chunk
    /// frames it made.
    @discardableResult
    func assign(_ tasks: [PoolTask], frameLimit: Int = Frame.maxPayload) -> Int {
        guard takesJobs else {
            // Callers check takesJobs first; if one ever did not, failing the jobs beats
            // losing them or stopping the parent.
            for task in tasks {
                task.fail { ProcessPoolError.protocolViolation(pid: pid, job: $0, detail: "the job was given to a worker that had stopped") }
            }
            return 0
        }
        let now = monotonicNanoseconds()
        let limit = min(frameLimit, Frame.maxPayload)
        var chunks = 0
        for task in tasks {
            task.sentAt = now
            task.cursor = task.next
            outstandingItems += task.end - task.next
            guard task.isChunk else {
                if !task.descriptors.isEmpty { descriptorQueue.append(task) }
                Frame.appendJob(kind: .job, id: task.id, name: task.name, job: task.payload,
                                descriptors: task.descriptors.count, to: &assigned)
                continue
            }
            var start = task.next
            while start < task.end {
                var end = start + 1
                var length = 2 + task.name.count + JobChunk.countSize + JobChunk.itemOverhead + task.ranges[start].count
                while end < task.end, length + JobChunk.itemOverhead + task.ranges[end].count <= limit {
                    length += JobChunk.itemOverhead + task.ranges[end].count
                    end += 1
                }
                if end - start > 1 {
                    JobChunk.append(name: task.name, firstID: task.itemID(start), bytes: task.payload,
                                    ranges: task.ranges[start..<end], to: &assigned)
                    chunks += 1
                } else {
                    Frame.appendJob(kind: .job, id: task.itemID(start), name: task.name, job: task.itemBytes(start), to: &assigned)
                }
                start = end
            }
        }
        guard let last = tasks.last else { return 0 }
        last.endsBatch = true
        sent.append(contentsOf: tasks)
        batches += 1
        if phase == .ready { phase = .busy }
        updateSpin()
        sendDescriptors()
        return chunks
    }

    /// Sends queued descriptors until the channel is full (then it is watched) or the
    /// queue is empty. A job cancelled meanwhile (its duplicates closed) still gets its
    /// datagram, empty, so the worker's count of datagrams stays in step with its jobs.
    private func sendDescriptors() {
        while let task = descriptorQueue.first, descriptorChannel >= 0 {
            let code = DescriptorChannel.send(task.isDone ? [] : task.descriptors, on: descriptorChannel)
            if code == EAGAIN || code == EWOULDBLOCK {
                watchDescriptorChannel(true)
                return
            }
            if code == EINTR { continue }
            if code != 0 {
                // The worker would wait for this datagram forever: it is replaced instead.
                protocolBroken(.corruptFrame("passing descriptors failed: \(String(cString: strerror(code)))"))
                return
            }
            descriptorQueue.removeFirst()
        }
        watchDescriptorChannel(false)
    }

    private func watchDescriptorChannel(_ watch: Bool) {
        if watch {
            if descriptorWatcher == nil { descriptorWatcher = try? FDWatcher(fd: descriptorChannel) }
            descriptorWatcher?.setCallback(events: .writable) { [unowned self] _, _ in sendDescriptors() }
        } else {
            descriptorWatcher?.close()
            descriptorWatcher = nil
        }
    }

    /// Sends what ``assign(_:)`` gathered.
    func sendAssigned() {
        guard !assigned.isEmpty else { return }
        send(assigned)
        assigned.removeAll(keepingCapacity: assigned.capacity <= 1 << 20)
    }

    /// Takes no more jobs: the worker is being stopped.
    func drain() {
        if phase != .dead { phase = .draining }
    }

    /// Takes back every unanswered task (for re-queueing or failing), leaving none, and closes
    /// the channel: the worker's answers are no longer read.
    func takeOutstanding() -> [PoolTask] {
        closeChannel()
        batches = 0
        outstandingItems = 0
        defer { updateSpin() }
        return Array(exchange(&sent, with: []))
    }

    /// The id of the oldest unanswered job (a chunk's item), or `nil` when none is.
    private var expectedID: UInt64? {
        guard let first = sent.first else { return nil }
        return first.itemID(first.cursor)
    }

    /// Takes the answer for the oldest unanswered job, which `id` must name: its task, and
    /// for a chunk which item it is. The task leaves `outstanding` with its last item.
    private func answered(_ id: UInt64) -> (task: PoolTask, item: Int)? {
        // Not `.map { }`: a closure made here checks at run time that it runs on the hub.
        guard let (task, items) = answered(id, upTo: 1) else { return nil }
        return (task, items.lowerBound)
    }

    /// Takes the answers for the oldest unanswered jobs, the first of which `id` must name,
    /// up to `limit` of them and no further than the end of its task: the task, and for a
    /// chunk which items they are.
    private func answered(_ id: UInt64, upTo limit: Int) -> (task: PoolTask, items: Range<Int>)? {
        guard let first = sent.first, first.itemID(first.cursor) == id else { return nil }
        let item = first.cursor
        let count = min(limit, first.end - item)
        first.cursor += count
        outstandingItems -= count
        tasksDone += count
        if first.cursor == first.end {
            sent.removeFirst()
            if first.endsBatch { batches -= 1 }
            if sent.isEmpty && phase == .busy { phase = .ready }
            updateSpin()
        }
        return (first, item..<(item + count))
    }

    private func updateSpin() {
        let busy = !sent.isEmpty
        guard busy != holdsSpin else { return }
        holdsSpin = busy
        if busy {
            Hub.requestPollSpin()
        } else {
            Hub.releasePollSpin()
        }
    }

    private func send(_ bytes: [UInt8]) {
        if outboxHead == outbox.count {
            // send with MSG_NOSIGNAL: a worker that died must not SIGPIPE the parent.
            let written = bytes.withUnsafeBytes { Glibc.send(channel, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if written == bytes.count { return }
            if written < 0 && errno != EAGAIN && errno != EWOULDBLOCK {
                // The worker is gone; its exit will be reported by the exit callback.
                return
            }
            outbox = Array(bytes[max(written, 0)...])
            outboxHead = 0
            watchChannel()
        } else {
            outbox.append(contentsOf: bytes)
        }
    }

    private func flush() {
        while outboxHead < outbox.count {
            let written = outbox.withUnsafeBytes { buffer in
                Glibc.send(channel, buffer.baseAddress! + outboxHead, buffer.count - outboxHead, Int32(MSG_NOSIGNAL))
            }
            if written > 0 {
                outboxHead += written
            } else if written < 0 && errno == EINTR {
                continue
            } else {
                break
            }
        }
        if outboxHead == outbox.count {
            outbox.removeAll(keepingCapacity: outbox.capacity <= 1 << 20)
            outboxHead = 0
            watchChannel()
        }
    }

    // MARK: Receiving

    private func watchChannel() {
        guard channelOpen else { return }
        let events: FDEvents = outboxHead < outbox.count ? [.readable, .writable] : .readable
        channelWatcher?.setCallback(events: events) { [unowned self] status, events in
            if status < 0 || events.contains(.readable) || events.contains(.disconnect) { drainChannel() }
            if events.contains(.writable) { flush() }
        }
    }

    /// Reads what the channel holds and hands over every whole frame — when `bounded`, for
    /// about ``answerSlice`` of the hub's time per turn: a worker's answers (up to
    /// ``ProcessPool/tinyJobPrefetch`` tiny jobs' at once, and each answer's refill) took
    /// 7–34 ms at once in a ThreadSanitizer build, where timers and other workers waited
    /// for all of them. Frames read and not handed over wait in the reader for a later turn
    /// (``drainLater()``); the socket's rest is read then. Unbounded once the worker has
    /// exited: all it wrote is taken before its end is reported.
    private func drainChannel(bounded: Bool = true) {
        guard channelOpen, violation == nil else { return }
        var clock = SliceClock(slice: bounded ? Self.answerSlice : nil)
        // Frames a slice left come before anything read now.
        if framesLeft {
            framesLeft = false
            guard deliverFrames(clock: &clock) else { return drainLater() }
        }
        // One buffer for all workers: reads happen on the hub thread only, one at a time.
        let chunk = Self.readBuffer
        while channelOpen {
            let count = read(channel, chunk.baseAddress, chunk.count)
            if count > 0 {
                reader.append(UnsafeRawBufferPointer(rebasing: chunk[0..<count]))
                guard deliverFrames(clock: &clock) else { return drainLater() }
                if count < chunk.count { return }
            } else if count < 0 && errno == EINTR {
                continue
            } else if count < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) {
                return
            } else {
                // End of the channel: the worker is exiting. A partial frame left over means
                // it died mid-write; the exit callback reports the crash.
                do {
                    try reader.checkComplete()
                } catch {
                    truncation = error
                }
                closeChannel()
                return
            }
        }
    }

    /// The most time one turn of the hub spends handing over one worker's frames (ns).
    @Hub static var answerSlice: UInt64 = 2_000_000

    /// Hands over the frames the last slice left, from the timer heap (due at once), after
    /// the loop has polled I/O and run the timers due, unless that is asked for already.
    private func drainLater() {
        framesLeft = true
        guard !drainScheduled else { return }
        drainScheduled = true
        _ = Hub.schedule(afterNanoseconds: 0) { [weak self] in
            guard let self else { return }
            drainScheduled = false
            drainChannel()
        }
    }

    /// Hands over the whole frames in the reader until `clock`'s slice is used up; returns
    /// false if it stopped for that with frames perhaps left.
    private func deliverFrames(clock: inout SliceClock) -> Bool {
        var finished = true
        do {
            while channelOpen, violation == nil, let frame = try reader.next() {
                handle(frame)
                if clock.isOver() {
                    finished = false
                    break
                }
            }
        } catch {
            protocolBroken(error)
        }
        afterFrames()
        return finished
    }

    /// Checks a frame against the protocol and the phase, and reports what it means.
    private func handle(_ frame: Frame) {
        switch frame.kind {
        case .hello:
            guard phase == .starting, let hello = WorkerHello(frame.payload) else {
                protocolBroken(.corruptFrame("unreadable or repeated hello"))
                return
            }
            guard hello.version == WorkerEnvironment.protocolVersion else {
                failStart(Self.versionMismatch(worker: hello.version))
                return
            }
            servedJobs = hello.jobs
            if let initializer {
                var bytes: [UInt8] = []
                Frame.appendJob(kind: .initialize, id: 0, name: initializer.name, job: initializer.job[...], to: &bytes)
                send(bytes)
            } else {
                becomeReady()
            }
        case .result where frame.id == 0, .failure where frame.id == 0:
            guard phase == .starting, initializer != nil, servedJobs != nil else {
                protocolBroken(.corruptFrame("unexpected answer to the initializer"))
                return
            }
            if frame.kind == .failure {
                failStart("the initializer failed: \(JobFailed.decode(frame.payload[...], job: "initializer", coder: coder))")
            } else {
                becomeReady()
            }
        case .result, .failure:
            let sentAt = sent.first?.sentAt ?? 0
            guard isServing || phase == .draining, let (task, item) = answered(frame.id) else {
                protocolBroken(.corruptFrame("answer for job \(frame.id), which the worker was not running"))
                return
            }
            let now = monotonicNanoseconds()
            let seconds = Double(now - max(sentAt, lastAnswer)) / 1e9
            lastAnswer = now
            if task.isChunk {
                deliver(task, item: item, kind: frame.kind, payload: frame.payload[...])
                onEvent(self, .answeredItems(count: 1, seconds: seconds))
            } else {
                onEvent(self, .answered(task, frame.kind, frame.payload[...], seconds: seconds))
            }
        case .chunkOutcomes:
            var records: ChunkOutcomes.Records
            do {
                records = try ChunkOutcomes.Records(frame.payload)
            } catch {
                protocolBroken(error)
                return
            }
            let count = records.count
            guard isServing || phase == .draining, expectedID == frame.id, count <= outstandingItems else {
                protocolBroken(.corruptFrame("\(count) outcomes from job \(frame.id), which the worker was not running"))
                return
            }
            let now = monotonicNanoseconds()
            // The chunk's time is shared by its jobs, for the pool's mean job time.
            let seconds = Double(now - max(sent.first?.sentAt ?? now, lastAnswer)) / 1e9 / Double(count)
            lastAnswer = now
            var items = 0
            var read = 0
            // A chunk task's answered items go to its map in one call each.
            while read < count, let id = expectedID, let (task, answered) = answered(id, upTo: count - read) {
                read += answered.count
                if task.isChunk {
                    if !task.answerItems(answered, from: &records) { discard() }
                    items += answered.count
                } else {
                    let outcome = records.next()
                    onEvent(self, .answered(task, outcome.kind, frame.payload[outcome.bytes], seconds: seconds))
                }
            }
            if items > 0 { onEvent(self, .answeredItems(count: items, seconds: seconds)) }
        case .job, .initialize, .jobWithDescriptors, .jobChunk:
            protocolBroken(.corruptFrame("a worker sent a \(frame.kind) frame"))
        }
    }

    /// Hands chunk item `item` of `task` its answer; a result that does not decode means
    /// this worker's bytes cannot be trusted, and it is discarded.
    private func deliver(_ task: PoolTask, item: Int, kind: FrameKind, payload: ArraySlice<UInt8>) {
        if !task.answerItem(item, kind: kind, payload: payload, coder: coder) { discard() }
    }

    /// Delivers the answers a dead worker held back in its outbox, in order, for the jobs
    /// still unanswered: a job that ran is never reported crashed nor run again. Frames
    /// that reached the channel before the worker died are skipped by their ids.
    private func recoverHeldBackAnswers() {
        guard !sent.isEmpty, phase == .busy || phase == .draining else { return }
        for frame in ledger.committedFrames() where frame.id == expectedID {
            guard frame.kind == .result || frame.kind == .failure || frame.kind == .chunkOutcomes else { break }
            handle(frame)
        }
    }

    /// How many unanswered jobs (a chunk's items each) come before `task` here, or `nil`
    /// when it was not sent to this worker.
    func position(of task: PoolTask) -> Int? {
        var position = 0
        for held in sent {
            if held === task { return position }
            position += held.end - held.cursor
        }
        return nil
    }

    /// Stops `task`, a single job which was sent to this worker and sits `position` jobs
    /// behind its oldest unanswered one, from running: a job the worker has not reached is skipped
    /// (its id goes into the ledger's cancel table). Returns true when the worker had
    /// already started it, so only stopping the worker stops the job.
    func withdraw(_ task: PoolTask, at position: Int) -> Bool {
        let started = Int(truncatingIfNeeded: ledger.cancel(task.id))
        return position < min(max(started - tasksDone, 0), outstandingItems)
    }

    /// Withdraws every single job sent to this worker that it has not started (the tiny-job
    /// prefetch sends many ahead): the worker skips them. Returns them, not ended yet; the
    /// caller ends them. The ones started run on and answer. Chunks are left as they are.
    func withdrawUnstarted() -> [PoolTask] {
        var withdrawn: [PoolTask] = []
        var position = 0
        for task in sent {
            if !task.isChunk && !task.isDone && !withdraw(task, at: position) { withdrawn.append(task) }
            position += task.end - task.cursor
        }
        return withdrawn
    }

    /// Asks the worker to skip every task it was sent that has ended meanwhile (an
    /// abandoned map's), if it has not started it; the ones running finish.
    func skipEnded() {
        for task in sent where task.isDone {
            for item in task.cursor..<task.end { _ = ledger.cancel(task.itemID(item)) }
        }
    }

    /// The job types the hello listed.
    private var servedJobs: [String]?

    private func becomeReady() {
        phase = sent.isEmpty ? .ready : .busy
        lastAnswer = monotonicNanoseconds()
        onEvent(self, .ready(jobs: servedJobs ?? []))
    }

    /// Why a worker whose hello names protocol `worker` is refused: its program was built
    /// with another Sprout version, which lays the frames out otherwise.
    static func versionMismatch(worker: Int) -> String {
        "the worker program speaks wire protocol \(worker) and this program \(WorkerEnvironment.protocolVersion):"
            + " it was built with another version of Sprout (rebuild the worker executable with this one)"
    }

    /// Ends a start that cannot succeed: the reason is kept for the report, the worker killed.
    private func failStart(_ reason: String) {
        startFailure = reason
        kill()
    }

    /// SIGKILLs the worker and its process group (it leads its own): what it started —
    /// Swift's crash backtracer above all, which would otherwise wait for ever on the worker
    /// it traces — dies with it now, not when this program sees the worker's exit, which a
    /// program that ends first never does. Does nothing once the worker's exit was handled
    /// (its pid, hence its group's, may belong to another process by then).
    func kill() {
        guard phase != .dead else { return }
        // Before its pid is known (a fork server still forking it) the signal is held.
        if pid > 0 { Glibc.kill(-pid, SIGKILL) }
        try? child.signal(SIGKILL)
    }

    /// Ends a worker whose answer could not be used (a result that did not decode): it takes
    /// no more jobs and is killed; answers it wrote before still arrive, and the jobs it had
    /// started without answering fail with ``WorkerCrashed`` when it has exited.
    func discard() {
        guard phase != .dead else { return }
        phase = .draining
        kill()
    }

    /// Records the violation and kills the worker; the exit callback does the rest.
    func protocolBroken(_ error: ChannelError) {
        guard violation == nil else { return }
        violation = error
        kill()
    }

    /// Closes the parent's end: the worker sees end-of-file and exits.
    func closeChannel() {
        guard channelOpen else { return }
        channelOpen = false
        channelWatcher?.close()
        channelWatcher = nil
        watchDescriptorChannel(false)
        descriptorQueue = []
        close(channel)
        close(descriptorChannel)
        descriptorChannel = -1
    }

    private func drainStderr() {
        guard stderrFD >= 0 else { return }
        let chunk = Self.readBuffer
        while true {
            let count = read(stderrFD, chunk.baseAddress, chunk.count)
            if count > 0 {
                let piece = UnsafeRawBufferPointer(rebasing: chunk[0..<count])
                tail.append(piece)
                logLines(piece)
            } else if count < 0 && errno == EINTR {
                continue
            } else {
                if count == 0 {
                    if !partialLine.isEmpty { logLine(partialLine[...]) }
                    partialLine = []
                    closeStderr()
                }
                return
            }
        }
    }

    /// Logs each complete line of `bytes`, keeping an unfinished last line for the next read
    /// (a line longer than 16 KiB is logged in pieces, so a worker cannot grow it unbounded).
    private func logLines(_ bytes: UnsafeRawBufferPointer) {
        var start = 0
        for index in 0..<bytes.count where bytes[index] == UInt8(ascii: "\n") {
            if partialLine.isEmpty {
                logLine(bytes[start..<index])
            } else {
                partialLine.append(contentsOf: bytes[start..<index])
                logLine(partialLine[...])
                partialLine.removeAll(keepingCapacity: true)
            }
            start = index + 1
        }
        partialLine.append(contentsOf: bytes[start...])
        if partialLine.count > 16 << 10 {
            logLine(partialLine[...])
            partialLine.removeAll(keepingCapacity: true)
        }
    }

    private func logLine<Bytes: Collection<UInt8>>(_ line: Bytes) {
        logger.notice("worker \(pid): \(String(decoding: line, as: UTF8.self))", metadata: ["pid": "\(pid)"])
    }

    private func closeStderr() {
        guard stderrFD >= 0 else { return }
        stderrWatcher?.close()
        stderrWatcher = nil
        close(stderrFD)
        stderrFD = -1
    }

    /// Stops the worker: SIGTERM, then SIGKILL after `grace` seconds.
    func terminate(grace: Double) {
        drain()
        try? child.signal(SIGTERM)
        let timer = Hub.schedule(after: grace) { [self] in
            kill()
        }
        timers.append(timer)
    }
}
