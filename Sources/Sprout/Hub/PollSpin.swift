import CLibuv

import Glibc

/// Brief, adaptive spinning before the hub sleeps in its poll, for waits that end within
/// microseconds — a process pool's round trip to an idle worker.
///
/// Sleeping and being woken costs a context switch and, on a virtual machine, waking an
/// idle CPU: tens of µs, more than the answer takes to arrive. While a caller asked for it
/// (``request()``) and the hub's last wait was short, the hub polls its backend (epoll)
/// descriptor for up to ``limit`` before it sleeps, yielding its core to anything runnable
/// meanwhile. Timers and work from other threads make that descriptor readable too, so
/// nothing waits behind the spin. A spin that comes up empty turns spinning off until a
/// wait is short again: an idle hub spins once, briefly, and then sleeps.
///
/// Hub thread only.
package final class PollSpin {
    /// The longest one spin lasts (ns).
    static let limit: UInt64 = 50_000

    private let loop: UnsafeMutablePointer<uv_loop_t>
    private let handle: UnsafeMutablePointer<uv_prepare_t>
    private var requests = 0
    private var lastWaitShort = true
    /// When the hub went to sleep without a spin that found work; 0 otherwise.
    private var sleepingSince: UInt64 = 0

    init(loop: UnsafeMutablePointer<uv_loop_t>) {
        self.loop = loop
        handle = .allocate(capacity: 1)
        uv_prepare_init(loop, handle)
        handle.pointee.data = Unmanaged.passUnretained(self).toOpaque()
        uv_prepare_start(handle) { handle in
            Unmanaged<PollSpin>.fromOpaque(handle!.pointee.data).takeUnretainedValue().beforePoll()
        }
        // Runs every turn but, unreferenced, never keeps the loop alive.
        uv_unref(UnsafeMutableRawPointer(handle).assumingMemoryBound(to: uv_handle_t.self))
    }

    /// Asks the hub to spin before it sleeps, until a matching ``release()``: call it when
    /// an answer is expected within microseconds.
    package func request() {
        requests += 1
    }

    /// Withdraws one ``request()``.
    package func release() {
        requests -= 1
    }

    /// Notes how long the poll that just returned slept; the loop calls it after each poll.
    func afterPoll() {
        guard sleepingSince != 0 else { return }
        lastWaitShort = monotonicNanoseconds() - sleepingSince < Self.limit
        sleepingSince = 0
    }

    private func beforePoll() {
        guard requests > 0 else { return }
        // 0: work is queued and the poll will not block; negative: no timer bounds it.
        let timeout = uv_backend_timeout(loop)
        guard timeout != 0 else { return }
        let start = monotonicNanoseconds()
        if lastWaitShort {
            let limit = timeout > 0 ? min(Self.limit, UInt64(timeout) * 1_000_000) : Self.limit
            var poller = pollfd(fd: uv_backend_fd(loop), events: Int16(POLLIN), revents: 0)
            repeat {
                // Readable: some handle is ready, and the poll that follows will not sleep.
                if poll(&poller, 1, 0) > 0 { return }
                sched_yield()
            } while monotonicNanoseconds() - start < limit
        }
        sleepingSince = start
    }
}
