// The process calls that take a time, with a `Duration` beside `Double` seconds, as Swift's
// own `Task.sleep(for:)` does: `pool.submit(job, timeout: .seconds(30))`,
// `queue.get(timeout: .milliseconds(500))`. Each forwards to its `Double` twin.

extension ProcessPool {
    /// Queues `job`, cancelling it after `timeout`; `submit(_:timeout:retries:)` with a
    /// `Duration`.
    ///
    /// - Returns: the job's handle.
    /// - Throws: what `submit(_:timeout:retries:)` throws (``ProcessPoolError``), before
    ///   anything is sent.
    public func submit<Job: ProcessJob>(_ job: Job, timeout: Duration, retries: Int = 0) throws -> JobHandle<Job.Output> {
        try submit(job, timeout: timeout.inSeconds, retries: retries)
    }

    /// Queues `job`, cancelling it after `timeout`, and calls `onDone` with its outcome;
    /// `submit(_:timeout:retries:onDone:)` with a `Duration`.
    ///
    /// - Returns: the job's handle.
    /// - Throws: what `submit(_:timeout:retries:)` throws, before anything is sent.
    public func submit<Job: ProcessJob>(
        _ job: Job,
        timeout: Duration,
        retries: Int = 0,
        onDone: @escaping @Sendable @Hub (Result<Job.Output, any Error>) -> Void
    ) throws -> JobHandle<Job.Output> {
        try submit(job, timeout: timeout.inSeconds, retries: retries, onDone: onDone)
    }

    /// Runs `job` in a worker, cancelling it after `timeout`; `run(_:timeout:retries:)` with
    /// a `Duration`.
    ///
    /// - Returns: the job's output.
    /// - Throws: what `run(_:timeout:retries:)` throws (``JobFailed``, ``WorkerCrashed``,
    ///   ``Timeout`` when `timeout` passes, ``ProcessPoolError``, `CancellationError`).
    public func run<Job: ProcessJob>(_ job: Job, timeout: Duration, retries: Int = 0) async throws -> Job.Output {
        try await run(job, timeout: timeout.inSeconds, retries: retries)
    }
}

extension ChildProcess {
    /// Waits up to `timeout` for the child's output; `value(timeout:)` with a `Duration`.
    ///
    /// - Returns: the job's output.
    /// - Throws: what `value(timeout:)` throws (``JobFailed``, ``WorkerCrashed``, ``Timeout``
    ///   when `timeout` passes first).
    public func value(timeout: Duration) async throws -> Job.Output {
        try await value(timeout: timeout.inSeconds)
    }

    /// Asks the child to stop: SIGTERM, then SIGKILL after `grace`; `terminate(grace:)` with
    /// a `Duration`.
    public func terminate(grace: Duration) {
        terminate(grace: grace.inSeconds)
    }
}

extension ProcessQueue {
    /// Takes the oldest value, waiting up to `timeout`; `get(timeout:)` with a `Duration`.
    ///
    /// - Returns: the value.
    /// - Throws: what `get(timeout:)` throws (``QueueError/empty`` when `timeout` passes).
    public func get(timeout: Duration) async throws -> Value {
        try await get(timeout: timeout.inSeconds)
    }
}

extension ProcessPipe {
    /// Receives the next value, waiting up to `timeout`; `receive(timeout:)` with a `Duration`.
    ///
    /// - Returns: the value, or `nil` if `timeout` passed first.
    /// - Throws: what `receive(timeout:)` throws (``ProcessChannelError``, `CancellationError`).
    public func receive(timeout: Duration) async throws -> Value? {
        try await receive(timeout: timeout.inSeconds)
    }
}

extension ProcessEvent {
    /// Waits up to `timeout` for the flag; `wait(timeout:)` with a `Duration`.
    ///
    /// - Returns: whether the flag is set.
    /// - Throws: `CancellationError` if the greenlet is killed first.
    @discardableResult
    public func wait(timeout: Duration) async throws -> Bool {
        try await wait(timeout: timeout.inSeconds)
    }
}

extension ProcessSemaphore {
    /// Takes a slot, waiting up to `timeout`; `acquire(timeout:)` with a `Duration`.
    ///
    /// - Returns: `nil` if `timeout` passed first; `true` if the slot was taken back from a
    ///   process that died holding it; `false` otherwise.
    /// - Throws: `CancellationError` if the greenlet is killed first.
    @discardableResult
    public func acquire(timeout: Duration) async throws -> Bool? {
        try await acquire(timeout: timeout.inSeconds)
    }
}

extension ProcessBarrier {
    /// Waits up to `timeout` for every party; `wait(timeout:)` with a `Duration`.
    ///
    /// - Returns: this wait's arrival index.
    /// - Throws: what `wait(timeout:)` throws (``ProcessSyncError/brokenBarrier``, also when
    ///   `timeout` passes; `CancellationError`).
    @discardableResult
    public func wait(timeout: Duration) async throws -> Int {
        try await wait(timeout: timeout.inSeconds)
    }
}
