import DequeModule
import Glibc
import Logging

/// Sprout's own threads for blocking calls — gevent's threadpool, Tokio's blocking pool.
///
/// Kept apart from libuv's thread pool (four threads that DNS and file I/O need) so a
/// burst of slow blocking calls cannot starve name lookups. Threads start on demand, up
/// to ``maxThreads``; jobs beyond that wait in order. An idle thread exits after
/// ``idleSeconds``.
final class BlockingPool: @unchecked Sendable {
    /// The pool ``offloadBlocking(_:)`` uses. Its size comes from `SPROUT_BLOCKING_THREADS`
    /// (default 16).
    static let shared = BlockingPool(maxThreads: BlockingPool.configuredSize())

    /// A queued call; `run` also delivers its result.
    struct Job: Sendable {
        let run: @Sendable () -> Void
    }

    let maxThreads: Int
    static let idleSeconds = 10

    // Guarded by `mutex`; a condition variable needs a pthread mutex, not `Mutex`.
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let jobReady = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private var queue = Deque<Job>()
    private var threads = 0
    private var idle = 0
    /// Idle threads already signalled for a job, so a second job starts a thread instead.
    private var wakeupsPending = 0

    init(maxThreads: Int) {
        self.maxThreads = max(1, maxThreads)
        pthread_mutex_init(mutex, nil)
        var attributes = pthread_condattr_t()
        pthread_condattr_init(&attributes)
        pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC)
        pthread_cond_init(jobReady, &attributes)
        pthread_condattr_destroy(&attributes)
    }

    private static func configuredSize() -> Int {
        guard let text = getenv("SPROUT_BLOCKING_THREADS"), let size = Int(String(cString: text)), size > 0 else {
            return 16
        }
        return size
    }

    /// Queues `job`; a thread runs it as soon as one is free.
    func submit(_ job: Job) {
        pthread_mutex_lock(mutex)
        queue.append(job)
        var startThread = false
        if idle > wakeupsPending {
            wakeupsPending += 1
            pthread_cond_signal(jobReady)
        } else if threads < maxThreads {
            threads += 1
            startThread = true
        }
        pthread_mutex_unlock(mutex)
        if startThread { spawnThread() }
    }

    private func spawnThread() {
        let rc = startDetachedThread { [self] in work() }
        if rc != 0 {
            pthread_mutex_lock(mutex)
            threads -= 1
            pthread_mutex_unlock(mutex)
            Hub.logger.warning("could not start a blocking-pool thread (pthread_create: \(rc)); jobs wait for the running ones")
        }
    }

    /// A thread's life: take jobs until none comes for `idleSeconds`.
    private func work() {
        while let job = nextJob() {
            job.run()
        }
    }

    private func nextJob() -> Job? {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        var deadline = timespec()
        clock_gettime(CLOCK_MONOTONIC, &deadline)
        deadline.tv_sec += Self.idleSeconds
        while queue.isEmpty {
            idle += 1
            let rc = pthread_cond_timedwait(jobReady, mutex, &deadline)
            idle -= 1
            if wakeupsPending > 0 { wakeupsPending -= 1 }
            if rc == ETIMEDOUT && queue.isEmpty {
                threads -= 1
                return nil
            }
        }
        return queue.removeFirst()
    }
}
