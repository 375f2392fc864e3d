extension ProcessPool {
    /// Queues `job` and calls `onDone` on the hub with its outcome when it finishes —
    /// `Pool.apply_async(f, args, callback=, error_callback=)`: `.success` carries what
    /// the callback would get, `.failure` what the error callback would. The returned
    /// handle can still be waited on or cancelled.
    ///
    /// - Throws: as ``submit(_:timeout:retries:)-(_,Double?,_)``, before anything is sent (the callback
    ///   is then never called).
    @discardableResult
    public func submit<Job: ProcessJob>(
        _ job: Job,
        timeout: Double? = nil,
        retries: Int = 0,
        onDone: @escaping @Sendable @Hub (Result<Job.Output, any Error>) -> Void
    ) throws -> JobHandle<Job.Output> {
        let handle = try submit(job, timeout: timeout, retries: retries)
        handle.onDone(onDone)
        return handle
    }

    /// Starts ``map(_:chunkSize:progress:)`` in a greenlet of its own and returns at once
    /// with a handle on the whole map — `Pool.map_async`. The handle's value is every
    /// output in input order; its error is the first failed job's. Callbacks go on the
    /// handle (``Completion``'s `onDone { result in … }`, multiprocessing's `callback=` and
    /// `error_callback=`); killing it cancels the jobs not yet done. The map starts before
    /// this returns, so ``close()`` right after still runs all of it.
    public func mapAsync<S: Sequence & Sendable>(
        _ jobs: S,
        chunkSize: Int? = nil,
        progress: (@Hub @Sendable (MapProgress) -> Void)? = nil
    ) -> Greenlet<[S.Element.Output]> where S.Element: ProcessJob {
        // The map starts now, not when the greenlet first runs: a `close()` right after
        // still lets it run every job. The lifetime abandons it if the greenlet is killed
        // before it reads.
        let lifetime = MapLifetime(MapRun(pool: self, jobs: jobs, ordered: true, chunkSize: chunkSize, progress: progress))
        return spawn(name: "ProcessPool.mapAsync") {
            try await lifetime.run.outputs()
        }
    }

    /// Builds a job from each element of `arguments` with `make` and starts mapping them —
    /// `Pool.starmap_async`; see ``mapAsync(_:chunkSize:progress:)``.
    public func starmapAsync<S: Sequence, Job: ProcessJob>(
        _ arguments: S,
        chunkSize: Int? = nil,
        _ make: (S.Element) -> Job
    ) -> Greenlet<[Job.Output]> {
        mapAsync(arguments.map(make), chunkSize: chunkSize)
    }
}
