import CLibuv
import DequeModule
import Synchronization

import Glibc
import Logging

/// One unit of work for the hub thread.
enum HubWork {
    /// A Swift job (a task resuming or starting) to run on the loop.
    case job(UnownedJob)
    /// A suspended task to resume on a later turn: this is how `sleep(0)` yields.
    case resume(UnsafeContinuation<Void, Never>)
    /// A closure to run on the loop thread.
    case call(() -> Void)
    /// A greenlet to start: its task is made only when the hub reaches this item, so a
    /// greenlet waiting for its first turn holds no task (100,000 spawned before any runs
    /// held 100,000 tasks, ~1 KB each, whose first touch was most of a spawn's cost).
    case start(any RunningGreenlet)
}

/// Work handed over from another thread; only `@Sendable` closures are ever put in it.
private struct InboxWork: @unchecked Sendable {
    var work: HubWork
}

private struct Inbox: ~Copyable {
    var items: [InboxWork] = []
    var stopped = false
    var droppedAfterStop = false
}

/// The hub thread's `pthread_t`, 0 until it starts. A global rather than a field of
/// ``LoopExecutor/shared``: reaching the shared executor costs a `swift_once` and a retain and
/// release, a fifth of a queue put and get that need not wait (both ask ``Hub/isCurrent``);
/// an atomic global is initialized statically and read with one load.
private let hubThreadID = Atomic<UInt>(0)

/// True on the hub's own thread (false before the hub has started).
func runningOnHubThread() -> Bool {
    let hub = hubThreadID.load(ordering: .relaxed)
    return hub != 0 && hub == UInt(bitPattern: Int(bitPattern: pthread_self()))
}

/// The executor behind ``Hub``: it owns one `uv_loop_t` and the thread that runs it.
///
/// Jobs enqueued from the loop thread go into a local ring, and an unreferenced
/// `uv_idle_t` keeps the loop from blocking in poll while the ring is not empty.
/// Jobs from other threads go into a mutex-guarded inbox, with one `uv_async_send`
/// when the inbox goes from empty to non-empty. The ring is drained from a
/// `uv_check_t` with a budget, so I/O is polled between batches.
///
/// The wake-up handle is unreferenced unless work handed to another thread is pending
/// (``holdOpen()``), so `uv_run` returns once nothing on the loop — no timer, I/O, child
/// process, signal watcher, queued job or thread work — can run code again: the hub then
/// calls ``whenNothingCanWake`` (where `Hub.run` fails a main greenlet that waits forever)
/// and waits for work from other threads.
package final class LoopExecutor: SerialExecutor, TaskExecutor, @unchecked Sendable {
    package static let shared = LoopExecutor()

    /// How many ring items one drain runs before the loop polls I/O again.
    static let drainBudget = 128
    /// How long one drain may run before the loop polls I/O and runs timers again, in
    /// nanoseconds — gevent's switch interval. Counting jobs alone is not enough: a greenlet
    /// that computes for 100 ms and then calls `sleep(0)` is back in the same drain, and
    /// timers and sockets would wait for 128 such pieces.
    static let drainNanoseconds: UInt64 = 2_000_000

    package let loop: UnsafeMutablePointer<uv_loop_t>
    private let wakeHandle: UnsafeMutablePointer<uv_async_t>
    private let drainHandle: UnsafeMutablePointer<uv_check_t>
    private let spinHandle: UnsafeMutablePointer<uv_idle_t>
    /// Every deadline on the hub; touch only on the hub thread.
    package let timers: TimerHeap
    /// Spinning before the loop sleeps, for waits expected to end in microseconds; touch
    /// only on the hub thread.
    package let pollSpin: PollSpin

    // Loop-thread state, touched for every job: run-time exclusivity checks on it would
    // cost more than the bookkeeping itself.
    @exclusivity(unchecked) private var ring = Deque<HubWork>()
    /// Set when a drain starts with a burst in the ring, whose storage is given back once
    /// the ring is empty (an everyday ring keeps its own).
    @exclusivity(unchecked) private var ringHoldsBurst = false
    @exclusivity(unchecked) private var spinning = false
    /// While a `.resume` or `.start` item runs, the job its continuation or new task
    /// enqueues is caught here and run at once: it already waited its turn in the ring as
    /// that item.
    @exclusivity(unchecked) private var catchingResumedJob = false
    @exclusivity(unchecked) private var caughtJob: UnownedJob?
    private var loopClosedResult: Int32 = 0
    /// Set by ``closeLoop()``: the loop thread leaves once the handles are closed.
    @exclusivity(unchecked) private var closing = false
    /// How many pieces of work other threads do for the hub (``holdOpen()``).
    @exclusivity(unchecked) private var holds = 0
    /// Runs on the hub thread each time nothing on the loop can run code any more: no
    /// referenced handle, request or queued job is left, and no thread work is pending.
    /// Hub-thread only.
    @exclusivity(unchecked) package var whenNothingCanWake: (@Sendable @Hub () -> Void)?

    private let inbox = ThreadMutex(Inbox())
    /// Wake-ups that other threads owe the loop: counted under the inbox lock when work
    /// lands in an empty inbox, uncounted once `uv_async_send` has returned.
    /// ``closeLoop()`` waits for them, since libuv aborts the process when a send reaches a
    /// loop that has closed.
    private let wakesInFlight = Atomic<Int>(0)
    private let finished = Latch()

    /// Counts ring items started; the blocking monitor watches it move.
    let itemsStarted = Atomic<UInt64>(0)
    /// True while the loop thread runs ring items rather than polling.
    let draining = Atomic<Bool>(false)
    /// The task whose job runs now (0 between jobs), for the blocking monitor.
    let currentTask = Atomic<UInt>(0)
    /// The task whose job runs now, read on the hub thread only: a task's job and the task
    /// are one runtime object, so this equals `taskKey` of the running task.
    @exclusivity(unchecked) private(set) var runningTask: UInt = 0

    private init() {
        // libuv asserts that none of its own descriptors is 0, 1 or 2; a process started
        // with one of those closed would otherwise abort on its first handle.
        for fd: Int32 in 0...2 where fcntl(fd, F_GETFD) == -1 {
            _ = open("/dev/null", O_RDWR)
        }
        loop = .allocate(capacity: 1)
        wakeHandle = .allocate(capacity: 1)
        drainHandle = .allocate(capacity: 1)
        spinHandle = .allocate(capacity: 1)
        precondition(uv_loop_init(loop) == 0, "uv_loop_init failed")
        timers = TimerHeap(loop: loop)
        pollSpin = PollSpin(loop: loop)
        let me = Unmanaged.passUnretained(self).toOpaque()
        uv_async_init(loop, wakeHandle) { handle in
            LoopExecutor.from(handle!.pointee.data).takeInbox()
        }
        wakeHandle.pointee.data = me
        // Other threads may always hand work over, but only work Sprout knows is coming
        // (``holdOpen()``) keeps the loop from finding that nothing can wake a greenlet.
        uv_unref(UnsafeMutableRawPointer(wakeHandle).assumingMemoryBound(to: uv_handle_t.self))
        uv_check_init(loop, drainHandle)
        drainHandle.pointee.data = me
        uv_check_start(drainHandle) { handle in
            let executor = LoopExecutor.from(handle!.pointee.data)
            executor.pollSpin.afterPoll()
            executor.drain()
        }
        uv_unref(UnsafeMutableRawPointer(drainHandle).assumingMemoryBound(to: uv_handle_t.self))
        // Referenced, and active exactly while jobs are queued: `uv_run` cannot return then.
        uv_idle_init(loop, spinHandle)
        spinHandle.pointee.data = me
        startThread()
        BlockingMonitor.shared.startIfNeeded()
    }

    private static func from(_ pointer: UnsafeMutableRawPointer?) -> LoopExecutor {
        Unmanaged<LoopExecutor>.fromOpaque(pointer!).takeUnretainedValue()
    }

    private func startThread() {
        let rc = startDetachedThread { [self] in runLoopThread() }
        precondition(rc == 0, "Sprout: could not start the hub thread (pthread_create: \(rc))")
    }

    private func runLoopThread() {
        // The hub may be started from a thread that blocks signals (Dispatch's workers block
        // them all, and a new thread inherits the mask). libuv's SIGCHLD and signal watchers
        // need some thread to take delivery: this one always can.
        var none = sigset_t()
        sigemptyset(&none)
        pthread_sigmask(SIG_SETMASK, &none, nil)
        hubThreadID.store(UInt(bitPattern: Int(bitPattern: pthread_self())), ordering: .releasing)
        HubThreadStack.prepareOnHubThread()
        takeInbox()
        while true {
            uv_run(loop, UV_RUN_DEFAULT)
            if closing { break }
            // Nothing on the loop can run code now; only another thread can bring work.
            takeInbox()
            if ring.isEmpty && holds == 0, let hook = whenNothingCanWake {
                Hub.assumeIsolated { hook() }
            }
            if !ring.isEmpty || holds > 0 { continue }
            let wake = UnsafeMutableRawPointer(wakeHandle).assumingMemoryBound(to: uv_handle_t.self)
            uv_ref(wake)
            uv_run(loop, UV_RUN_ONCE)
            if closing { continue }
            // Work taken in that turn may have held the loop open (an offload the main
            // greenlet starts in its first turn): it keeps the reference. Dropping it made
            // `uv_run` return at once, over and over, until the offload ended: the hub
            // thread spun, and took the offload's answer from the inbox before the
            // offloading thread had sent its wake-up.
            if holds == 0 { uv_unref(wake) }
        }
        loopClosedResult = uv_loop_close(loop)
        timers.closeDescriptor()
        finished.open()
    }

    /// True on the hub's own thread.
    package var isHubThread: Bool { runningOnHubThread() }

    // MARK: Executor conformances

    package func enqueue(_ job: consuming ExecutorJob) {
        submit(.job(UnownedJob(job)))
    }

    package func asUnownedSerialExecutor() -> UnownedSerialExecutor {
        UnownedSerialExecutor(ordinary: self)
    }

    package func isIsolatingCurrentContext() -> Bool? {
        isHubThread
    }

    package func checkIsolated() {
        if !isHubThread {
            fatalError("Sprout: expected to run on the hub thread, but this is another thread")
        }
    }

    // MARK: Submitting work

    /// Queues work for the loop. On the loop thread it goes into the ring; from any other
    /// thread into the inbox, waking the loop only when the inbox was empty.
    func submit(_ work: HubWork) {
        if isHubThread {
            if catchingResumedJob, case .job(let job) = work, caughtJob == nil {
                caughtJob = job
                return
            }
            ring.append(work)
            if !spinning {
                spinning = true
                uv_idle_start(spinHandle) { _ in }
            }
            return
        }
        let shouldWake = inbox.withLock { inbox -> Bool? in
            if inbox.stopped {
                inbox.droppedAfterStop = true
                return nil
            }
            inbox.items.append(InboxWork(work: work))
            guard inbox.items.count == 1 else { return false }
            wakesInFlight.add(1, ordering: .relaxed)
            return true
        }
        switch shouldWake {
        case true?:
            uv_async_send(wakeHandle)
            wakesInFlight.subtract(1, ordering: .releasing)
        case false?: break
        case nil: Hub.logger.error("work was submitted after the hub shut down and cannot run")
        }
    }

    /// Keeps the loop from finding that nothing can wake a greenlet while another thread
    /// works for the hub (an ``offloadBlocking(_:)`` call); each call is ended by one
    /// ``releaseHold()`` on the hub thread. Hub-thread only.
    func holdOpen() {
        holds += 1
        if holds == 1 { uv_ref(UnsafeMutableRawPointer(wakeHandle).assumingMemoryBound(to: uv_handle_t.self)) }
    }

    /// Ends one ``holdOpen()``. Hub-thread only.
    func releaseHold() {
        holds -= 1
        if holds == 0 && !closing { uv_unref(UnsafeMutableRawPointer(wakeHandle).assumingMemoryBound(to: uv_handle_t.self)) }
    }

    /// Runs `body` on the hub thread at a later point (never inline).
    package func execute(_ body: @escaping @Sendable () -> Void) {
        submit(.call(body))
    }

    /// Queues a resumption for a later turn; call only on the hub thread.
    func resumeLater(_ continuation: UnsafeContinuation<Void, Never>) {
        submit(.resume(continuation))
    }

    // MARK: The loop thread's side

    private func takeInbox() {
        let items = inbox.withLock { inbox -> [InboxWork] in
            let items = inbox.items
            inbox.items.removeAll(keepingCapacity: true)
            return items
        }
        if items.isEmpty { return }
        ring.reserveCapacity(ring.count + items.count)
        for item in items { ring.append(item.work) }
        if !spinning {
            spinning = true
            uv_idle_start(spinHandle) { _ in }
        }
    }

    private func drain() {
        guard !ring.isEmpty else { return }
        if ring.count > 4096 { ringHoldsBurst = true }
        draining.store(true, ordering: .relaxed)
        var budget = Self.drainBudget
        let deadline = coarseNanoseconds() + Self.drainNanoseconds
        while budget > 0, let work = ring.popFirst() {
            budget -= 1
            itemsStarted.add(1, ordering: .relaxed)
            switch work {
            case .job(let job):
                run(job)
            case .resume(let continuation):
                runCatchingFirstJob { continuation.resume() }
            case .call(let body):
                runningTask = 0
                currentTask.store(0, ordering: .relaxed)
                body()
            case .start(let greenlet):
                runningTask = 0
                currentTask.store(0, ordering: .relaxed)
                // The new task's first job is caught and run at once: this item was its turn.
                runCatchingFirstJob { greenlet.startTask() }
            }
            if coarseNanoseconds() >= deadline { break }
        }
        runningTask = 0
        draining.store(false, ordering: .relaxed)
        if ring.isEmpty {
            if ringHoldsBurst {
                ring = Deque()
                ringHoldsBurst = false
            }
            spinning = false
            uv_idle_stop(spinHandle)
        }
        // Timers compare against the loop's cached clock; a long batch makes it stale.
        uv_update_time(loop)
    }

    /// Runs `enqueueing`, which enqueues a task's job, and runs that job at once instead of
    /// queueing it: the ring item that enqueued it was its turn.
    @inline(__always)
    private func runCatchingFirstJob(_ enqueueing: () -> Void) {
        catchingResumedJob = true
        enqueueing()
        catchingResumedJob = false
        if let job = caughtJob {
            caughtJob = nil
            run(job)
        }
    }

    private func run(_ job: UnownedJob) {
        let task = unsafeBitCast(job, to: UInt.self)
        runningTask = task
        currentTask.store(task, ordering: .relaxed)
        // Greenlets prefer the hub as their task executor, so their nonisolated code stays
        // here too; a task that prefers nothing must not run as if it did, or the runtime
        // sees another executor at its next `@Hub` call and queues it again.
        if GreenletRegistry.shared.contains(task: task) {
            job.runSynchronously(isolatedTo: asUnownedSerialExecutor(), taskExecutor: asUnownedTaskExecutor())
        } else {
            job.runSynchronously(on: asUnownedSerialExecutor())
        }
    }

    /// Closes every handle on the loop, lets the close callbacks run and closes the loop.
    /// Runs on the hub thread as the very last step of teardown; returns at once, and
    /// ``waitUntilClosed()`` reports the result of `uv_loop_close`.
    func closeLoop() {
        precondition(isHubThread)
        closing = true
        inbox.withLock { $0.stopped = true }
        // A thread that filled the inbox before the stop may not have sent its wake-up yet
        // (the hub can take its work first, when it empties the inbox for other reasons):
        // the send must be over before the wake handle and the loop close.
        while wakesInFlight.load(ordering: .acquiring) > 0 { sched_yield() }
        uv_walk(loop, { handle, _ in
            if uv_is_closing(handle) == 0 {
                uv_close(handle, nil)
            }
        }, nil)
    }

    /// Blocks the caller until the loop thread has closed the loop; returns `uv_loop_close`'s result.
    func waitUntilClosed() -> Int32 {
        finished.wait()
        return loopClosedResult
    }

    /// The greenlets spawned whose start is still queued (they hold no task yet), in the
    /// order they will start. Hub thread only.
    func greenletsWaitingToStart() -> [any RunningGreenlet] {
        precondition(isHubThread)
        takeInbox()
        return ring.compactMap { work in
            if case .start(let greenlet) = work { greenlet } else { nil }
        }
    }

    /// True once ``closeLoop()`` has run: nothing submitted from then on can run.
    var isStopped: Bool {
        inbox.withLock { $0.stopped }
    }
}

/// Resumes `continuation` on a later turn of the hub, behind the work queued now: how a
/// greenlet yields (`sleep(0)`). Hub thread only. A function of its own because that
/// yield is inlined into other modules, which cannot name the executor.
@usableFromInline
func resumeOnLaterTurn(_ continuation: UnsafeContinuation<Void, Never>) {
    LoopExecutor.shared.resumeLater(continuation)
}
