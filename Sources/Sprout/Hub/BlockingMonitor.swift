import Synchronization

import Glibc
import Logging

/// Reports when one job keeps the hub's thread busy for longer than a threshold — a
/// blocking `read()`, a `usleep`, a long CPU loop inside a greenlet — since every other
/// greenlet and all I/O wait meanwhile. gevent's `max_blocking_time`, but on by default.
///
/// A watchdog thread samples the hub's job counter; the hub pays one relaxed atomic
/// increment per job. Each blocked stretch is reported once, naming the greenlet that
/// last resumed through a Sprout wait, with the hub thread's stack at that moment
/// (``HubThreadStack``) so the report names the function that blocks.
final class BlockingMonitor: Sendable {
    static let shared = BlockingMonitor()

    /// Threshold in nanoseconds; 0 when off.
    private let thresholdNanoseconds: Atomic<UInt64>
    private let stopped = Atomic<Bool>(false)
    /// True while a report is being made: naming the stack's frames reads symbol tables, which
    /// can outlast the blocked call and the program (seconds under AddressSanitizer).
    private let reporting = Atomic<Bool>(false)
    private let started = Atomic<Bool>(false)

    private init() {
        let environment = getenv("SPROUT_BLOCKING_MS").map { String(cString: $0) }
        switch environment {
        case "0"?, "off"?: thresholdNanoseconds = Atomic(0)
        case let text?: thresholdNanoseconds = Atomic(UInt64(text).map { $0 * 1_000_000 } ?? 100_000_000)
        case nil: thresholdNanoseconds = Atomic(100_000_000)
        }
    }

    var threshold: Double? {
        get {
            let value = thresholdNanoseconds.load(ordering: .relaxed)
            return value == 0 ? nil : Double(value) / 1e9
        }
        set {
            thresholdNanoseconds.store(newValue.map { nanoseconds($0) } ?? 0, ordering: .relaxed)
        }
    }

    func startIfNeeded() {
        guard !started.exchange(true, ordering: .relaxed) else { return }
        startDetachedThread { BlockingMonitor.shared.watch() }
    }

    /// Stops watching; a report being made is finished first (for at most 5 s), since the
    /// program may end right after the hub does and would take the report with it.
    func stop() {
        stopped.store(true, ordering: .relaxed)
        let until = monotonicNanoseconds() + 5_000_000_000
        while reporting.load(ordering: .acquiring) && monotonicNanoseconds() < until {
            usleep(1_000)
        }
    }

    private func watch() {
        let executor = LoopExecutor.shared
        var lastCount = executor.itemsStarted.load(ordering: .relaxed)
        var since = monotonicNanoseconds()
        var reportedBlocked = false
        var reportedStarved = false
        // The scheduler's figures for the hub thread at the first sample of a stretch in
        // which one job holds it, and when they were read.
        var baseline: (schedule: ThreadSchedule, at: UInt64)?
        var sampledStretch = false
        while !stopped.load(ordering: .relaxed) {
            let threshold = thresholdNanoseconds.load(ordering: .relaxed)
            let interval = threshold == 0 ? 100_000_000 : max(threshold / 10, 1_000_000)
            var pause = timespec(tv_sec: Int(interval / 1_000_000_000), tv_nsec: Int(interval % 1_000_000_000))
            nanosleep(&pause, nil)
            let count = executor.itemsStarted.load(ordering: .relaxed)
            let now = monotonicNanoseconds()
            guard count == lastCount && executor.draining.load(ordering: .relaxed) else {
                lastCount = count
                since = now
                reportedBlocked = false
                reportedStarved = false
                sampledStretch = false
                baseline = nil
                continue
            }
            guard threshold != 0 else { continue }
            let tid = HubThreadStack.kernelThreadID
            if !sampledStretch {
                // Read once per stretch, not per sample: a hub running short jobs never pays it.
                sampledStretch = true
                baseline = tid.flatMap { ThreadSchedule(thread: $0) }.map { ($0, now) }
            }
            let held = now - since
            guard held >= threshold, !reportedBlocked else { continue }
            // A hub thread that is ready to run but waits for a core (other processes use the
            // machine's CPUs) is not blocked by the program: that share of the stretch, as
            // measured since the first sample of it, is not counted.
            var schedule: ThreadSchedule?
            var waitedShare = 0.0
            if let baseline, let tid {
                let elapsed = now - baseline.at
                // The watchdog itself may have been kept from running: a baseline read just
                // now says nothing yet.
                guard elapsed >= interval else { continue }
                schedule = ThreadSchedule(thread: tid)
                if let schedule {
                    waitedShare = Double(schedule.waitedForCPU(since: baseline.schedule, elapsed: elapsed)) / Double(elapsed)
                }
            }
            let waited = UInt64(Double(held) * waitedShare)
            if held - waited >= threshold {
                reportedBlocked = true
                reportBlocked(for: held - waited, waitingForCPU: waited)
            } else if let baseline, let schedule, waitedShare >= 0.5, !reportedStarved {
                reportedStarved = true
                Hub.logger.notice("""
                    the hub's thread was kept from running for \(held / 1_000_000) ms: it waited about \
                    \(waited / 1_000_000) ms for a CPU and ran \((schedule.ran &- baseline.schedule.ran) / 1_000_000) ms \
                    since it was seen held; other processes are using this machine's CPUs (the hub was \
                    starved of CPU, not blocked by the program).
                    """)
            }
        }
    }

    /// Reports a hub held for `held` ns by one job (besides `waited` ns it spent waiting for
    /// a CPU), naming the greenlet and the hub thread's stack.
    private func reportBlocked(for held: UInt64, waitingForCPU waited: UInt64) {
        reporting.store(true, ordering: .relaxed)
        defer { reporting.store(false, ordering: .releasing) }
        let executor = LoopExecutor.shared
        let task = executor.currentTask.load(ordering: .relaxed)
        let who = GreenletRegistry.shared.describe(task: task) ?? "code outside any greenlet"
        let stack = HubThreadStack.capture().map { frames in
            "\nthe hub thread's stack when it was seen blocked:\n" + frames.prefix(24).enumerated().map {
                "  #\($0.offset) \(SymbolNames.describe($0.element, isReturnAddress: $0.offset > 0))"
            }.joined(separator: "\n")
        } ?? ""
        let starved = waited >= 1_000_000 ? " (and waited about \(waited / 1_000_000) ms more for a CPU)" : ""
        Hub.logger.warning("""
            the hub has been blocked for \(held / 1_000_000) ms in \(who)\(starved); \
            every other greenlet and all I/O are waiting. Move blocking calls to \
            offloadBlocking { } and CPU-heavy work to a ProcessPool.\(stack)
            """)
    }
}

extension Hub {
    /// How long one job may hold the hub's thread before the blocking monitor reports it,
    /// in seconds (default 0.1; `nil` turns the monitor off). The environment variable
    /// `SPROUT_BLOCKING_MS` sets the starting value (`0` or `off` to disable).
    public static var blockingThreshold: Double? {
        get { BlockingMonitor.shared.threshold }
        set { BlockingMonitor.shared.threshold = newValue }
    }
}
