extension ProcessPool {
    /// Runs every job and returns the outputs in input order — `Pool.map`.
    ///
    /// The input is read lazily, only as workers free up. `chunkSize` jobs go to a worker
    /// at a time (automatic when `nil`: tiny jobs travel in chunks, slow ones one by one);
    /// workers confirm each job, so a crash fails only the job it was running.
    ///
    /// - Throws: the first failed job's error (``JobFailed``, ``WorkerCrashed``,
    ///   ``ProcessPoolError``); `CancellationError` if the caller is killed.
    public func map<S: Sequence>(
        _ jobs: S,
        chunkSize: Int? = nil,
        progress: (@Hub (MapProgress) -> Void)? = nil
    ) async throws -> [S.Element.Output] where S.Element: ProcessJob {
        try await MapRun(pool: self, jobs: jobs, ordered: true, chunkSize: chunkSize, progress: progress).outputs()
    }

    /// Builds a job from each element of `arguments` with `make` and maps them —
    /// `Pool.starmap`: `pool.starmap(pairs) { a, b in Add(a: a, b: b) }`.
    ///
    /// - Throws: as ``map(_:chunkSize:progress:)``.
    public func starmap<S: Sequence, Job: ProcessJob>(
        _ arguments: S,
        chunkSize: Int? = nil,
        progress: (@Hub (MapProgress) -> Void)? = nil,
        _ make: (S.Element) -> Job
    ) async throws -> [Job.Output] {
        try await map(arguments.map(make), chunkSize: chunkSize, progress: progress)
    }

    /// The outputs in input order as they become available — `Pool.imap`. Lazy and
    /// bounded: an endless input works.
    public func imap<S: Sequence>(
        _ jobs: S,
        chunkSize: Int? = nil,
        progress: (@Hub (MapProgress) -> Void)? = nil
    ) -> ProcessMapSequence<S.Element> where S.Element: ProcessJob {
        ProcessMapSequence(lifetime: MapLifetime(MapRun(pool: self, jobs: jobs, ordered: true,
                                                        chunkSize: chunkSize, progress: progress)))
    }

    /// The outputs in the order they finish — `Pool.imap_unordered`. Lazy and bounded.
    public func imapUnordered<S: Sequence>(
        _ jobs: S,
        chunkSize: Int? = nil,
        progress: (@Hub (MapProgress) -> Void)? = nil
    ) -> ProcessMapSequence<S.Element> where S.Element: ProcessJob {
        ProcessMapSequence(lifetime: MapLifetime(MapRun(pool: self, jobs: jobs, ordered: false,
                                                        chunkSize: chunkSize, progress: progress)))
    }

    /// One `Result` per job, so a failure (a job's error, a crashed worker) does not end
    /// the sequence; in input order unless `ordered` is false. Lazy and bounded.
    public func mapResults<S: Sequence>(
        _ jobs: S,
        chunkSize: Int? = nil,
        ordered: Bool = true,
        progress: (@Hub (MapProgress) -> Void)? = nil
    ) -> ProcessResultSequence<S.Element> where S.Element: ProcessJob {
        ProcessResultSequence(lifetime: MapLifetime(MapRun(pool: self, jobs: jobs, ordered: ordered,
                                                           chunkSize: chunkSize, progress: progress)))
    }
}
