import CLibuv

import Glibc

/// A deadline on the hub's timer heap. Hub-thread only.
package final class HubTimer {
    fileprivate let deadline: UInt64
    fileprivate let sequence: UInt64
    fileprivate var heapIndex = -1
    fileprivate var action: (() -> Void)?

    fileprivate init(deadline: UInt64, sequence: UInt64, action: @escaping () -> Void) {
        self.deadline = deadline
        self.sequence = sequence
        self.action = action
    }

    /// True until the timer fires or is cancelled.
    package var isPending: Bool { heapIndex >= 0 }
}

/// Every hub deadline (sleeps, timeouts, joins) lives in one binary heap behind one
/// kernel timer, so a sleeping greenlet costs a heap slot rather than a libuv handle.
///
/// Deadlines are kept in nanoseconds of `uv_hrtime` (CLOCK_MONOTONIC). The kernel timer is
/// a `timerfd` set to the earliest deadline itself, watched by a `uv_poll_t`: libuv's own
/// timers count whole milliseconds from a cached clock, so a 10 ms sleep woke up to a
/// millisecond late — most of a p99 budget of 1 ms.
package final class TimerHeap {
    private var heap: [HubTimer] = []
    private var nextSequence: UInt64 = 0
    private let loop: UnsafeMutablePointer<uv_loop_t>
    private var armedDeadline = UInt64.max
    private let timerFD: Int32
    private let watcher: UnsafeMutablePointer<uv_poll_t>
    /// Whether the watcher keeps the loop running: exactly while a deadline is pending.
    private var referenced = false

    init(loop: UnsafeMutablePointer<uv_loop_t>) {
        self.loop = loop
        timerFD = timerfd_create(CLOCK_MONOTONIC, Int32(TFD_NONBLOCK | TFD_CLOEXEC))
        precondition(timerFD >= 0, "Sprout: timerfd_create failed (errno \(errno))")
        watcher = .allocate(capacity: 1)
        uv_poll_init(loop, watcher, timerFD)
        watcher.pointee.data = Unmanaged.passUnretained(self).toOpaque()
        uv_poll_start(watcher, Int32(UV_READABLE.rawValue)) { handle, _, _ in
            Unmanaged<TimerHeap>.fromOpaque(handle!.pointee.data).takeUnretainedValue().expired()
        }
        // Active, and referenced only while a deadline is pending: a pending deadline is
        // code that will run, so the loop has not run out of things that could wake a greenlet.
        uv_unref(UnsafeMutableRawPointer(watcher).assumingMemoryBound(to: uv_handle_t.self))
    }

    /// Runs `action` on the hub once `nanoseconds` have passed.
    package func schedule(afterNanoseconds nanoseconds: UInt64, _ action: @escaping () -> Void) -> HubTimer {
        let now = uv_hrtime()
        let (deadline, overflow) = now.addingReportingOverflow(nanoseconds)
        let timer = HubTimer(deadline: overflow ? .max : deadline, sequence: nextSequence, action: action)
        nextSequence &+= 1
        timer.heapIndex = heap.count
        heap.append(timer)
        siftUp(heap.count - 1)
        if heap[0] === timer { arm() }
        return timer
    }

    /// Removes a pending timer; its action never runs.
    package func cancel(_ timer: HubTimer) {
        let index = timer.heapIndex
        guard index >= 0 else { return }
        timer.action = nil
        removeAt(index)
        if heap.isEmpty {
            disarm()
            armedDeadline = .max
            setReferenced(false)
        }
    }

    private func setReferenced(_ on: Bool) {
        guard on != referenced else { return }
        referenced = on
        let handle = UnsafeMutableRawPointer(watcher).assumingMemoryBound(to: uv_handle_t.self)
        if on { uv_ref(handle) } else { uv_unref(handle) }
    }

    private func arm() {
        guard let first = heap.first else {
            setReferenced(false)
            return
        }
        setReferenced(true)
        if first.deadline == armedDeadline { return }
        armedDeadline = first.deadline
        // An absolute deadline on the clock uv_hrtime reads; an all-zero value would disarm.
        let deadline = max(first.deadline, 1)
        var setting = itimerspec()
        setting.it_value.tv_sec = Int(deadline / 1_000_000_000)
        setting.it_value.tv_nsec = Int(deadline % 1_000_000_000)
        timerfd_settime(timerFD, Int32(TFD_TIMER_ABSTIME), &setting, nil)
    }

    private func disarm() {
        var setting = itimerspec()
        timerfd_settime(timerFD, 0, &setting, nil)
    }

    /// The timerfd became readable: take its expiry count, then run what is due.
    private func expired() {
        var expirations: UInt64 = 0
        _ = read(timerFD, &expirations, MemoryLayout<UInt64>.size)
        fire()
    }

    /// Closes the timerfd once the loop is closed (its poll handle closed with the rest).
    func closeDescriptor() {
        close(timerFD)
    }

    private func fire() {
        armedDeadline = .max
        let now = uv_hrtime()
        while let first = heap.first, first.deadline <= now {
            removeAt(0)
            let action = first.action
            first.action = nil
            action?()
        }
        arm()
    }

    private func removeAt(_ index: Int) {
        let removed = heap[index]
        removed.heapIndex = -1
        let last = heap.removeLast()
        guard index < heap.count else { return }
        heap[index] = last
        last.heapIndex = index
        siftDown(index)
        siftUp(last.heapIndex)
    }

    private func less(_ a: HubTimer, _ b: HubTimer) -> Bool {
        a.deadline != b.deadline ? a.deadline < b.deadline : a.sequence < b.sequence
    }

    private func siftUp(_ start: Int) {
        var child = start
        while child > 0 {
            let parent = (child - 1) / 2
            guard less(heap[child], heap[parent]) else { break }
            swapAt(child, parent)
            child = parent
        }
    }

    private func siftDown(_ start: Int) {
        var parent = start
        while true {
            let left = 2 * parent + 1
            guard left < heap.count else { break }
            var smallest = left
            if left + 1 < heap.count && less(heap[left + 1], heap[left]) { smallest = left + 1 }
            guard less(heap[smallest], heap[parent]) else { break }
            swapAt(parent, smallest)
            parent = smallest
        }
    }

    private func swapAt(_ i: Int, _ j: Int) {
        heap.swapAt(i, j)
        heap[i].heapIndex = i
        heap[j].heapIndex = j
    }
}

/// Nanoseconds on the monotonic clock the hub's deadlines use.
package func monotonicNanoseconds() -> UInt64 {
    uv_hrtime()
}

/// The monotonic clock at tick resolution (a few ms) — a read costs a few nanoseconds,
/// cheap enough for every job, and fine enough to notice a long one.
package func coarseNanoseconds() -> UInt64 {
    var time = timespec()
    clock_gettime(CLOCK_MONOTONIC_COARSE, &time)
    return UInt64(time.tv_sec) &* 1_000_000_000 &+ UInt64(time.tv_nsec)
}
