import CLibuv

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
/// `uv_timer_t`, so a sleeping greenlet costs a heap slot rather than a libuv handle.
///
/// Deadlines are kept in nanoseconds of `uv_hrtime`; libuv's timer only says when to look.
package final class TimerHeap {
    private var heap: [HubTimer] = []
    private var nextSequence: UInt64 = 0
    private let handle: UnsafeMutablePointer<uv_timer_t>
    private let loop: UnsafeMutablePointer<uv_loop_t>
    private var armedDeadline = UInt64.max

    init(loop: UnsafeMutablePointer<uv_loop_t>) {
        self.loop = loop
        handle = .allocate(capacity: 1)
        uv_timer_init(loop, handle)
        uv_unref(UnsafeMutableRawPointer(handle).assumingMemoryBound(to: uv_handle_t.self))
        handle.pointee.data = Unmanaged.passUnretained(self).toOpaque()
    }

    var count: Int { heap.count }

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
        if heap.isEmpty { uv_timer_stop(handle); armedDeadline = .max }
    }

    private func arm() {
        guard let first = heap.first else { return }
        if first.deadline == armedDeadline { return }
        armedDeadline = first.deadline
        let now = uv_hrtime()
        let remaining = first.deadline > now ? first.deadline - now : 0
        let milliseconds = remaining == 0 ? 0 : (remaining + 999_999) / 1_000_000
        // Active but unreferenced: a sleeping greenlet is kept alive by its task, not by libuv.
        uv_timer_start(handle, { handle in
            Unmanaged<TimerHeap>.fromOpaque(handle!.pointee.data).takeUnretainedValue().fire()
        }, milliseconds, 0)
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
