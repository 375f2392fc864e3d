import Glibc

/// Runs a worker's jobs on the worker's main thread: a task executor whose queue that
/// thread drains itself, so a synchronous `run()` costs no thread hop, and an `async`
/// one may still await anything (the hub, timers) — its continuations come back here.
final class WorkerExecutor: TaskExecutor, @unchecked Sendable {
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let condition = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    // Guarded by `mutex`.
    private var jobs: [UnownedJob] = []

    init() {
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(condition, nil)
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        pthread_mutex_lock(mutex)
        jobs.append(job)
        pthread_cond_signal(condition)
        pthread_mutex_unlock(mutex)
    }

    /// Runs `body` to completion on the calling thread and returns its result.
    func runToCompletion<T: Sendable>(_ body: @escaping @Sendable () async -> T) -> T {
        let box = OutcomeBox<T>()
        Task(executorPreference: self) { box.store(await body(), wakeUp: self) }
        while true {
            pthread_mutex_lock(mutex)
            while jobs.isEmpty && box.value == nil {
                pthread_cond_wait(condition, mutex)
            }
            if let value = box.value {
                pthread_mutex_unlock(mutex)
                return value
            }
            let batch = jobs
            jobs.removeAll(keepingCapacity: true)
            pthread_mutex_unlock(mutex)
            for job in batch {
                job.runSynchronously(on: asUnownedTaskExecutor())
            }
        }
    }

    fileprivate func signal(_ body: () -> Void) {
        pthread_mutex_lock(mutex)
        body()
        pthread_cond_signal(condition)
        pthread_mutex_unlock(mutex)
    }
}

/// Where a job's outcome lands; written under the executor's mutex.
private final class OutcomeBox<T>: @unchecked Sendable {
    var value: T?

    func store(_ value: T, wakeUp executor: WorkerExecutor) {
        executor.signal { self.value = value }
    }
}
