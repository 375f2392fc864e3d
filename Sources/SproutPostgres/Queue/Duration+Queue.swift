import Logging
import Sprout

// The job queue's calls that take a time, with a `Duration` beside `Double` seconds, as
// Swift's own `Task.sleep(for:)` does: `queue.submit(job, timeout: .seconds(120))`. Each
// forwards to its `Double` twin.

extension JobQueue {
    /// Connects with each statement bounded by `statementTimeout`;
    /// `connect(_:durableSubmissions:statementTimeout:logger:)` with a `Duration`.
    ///
    /// - Returns: the client.
    /// - Throws: what `connect(_:durableSubmissions:statementTimeout:logger:)` throws.
    public static func connect(
        _ url: String, durableSubmissions: Bool = true, statementTimeout: Duration, logger: Logger? = nil
    ) async throws -> JobQueue {
        try await connect(url, durableSubmissions: durableSubmissions, statementTimeout: statementTimeout.inSeconds, logger: logger)
    }

    /// Submits `job` with a run time limit of `timeout`;
    /// `submit(_:priority:timeout:retries:maxAttempts:)` with a `Duration`.
    ///
    /// - Returns: the job's handle.
    /// - Throws: what `submit(_:priority:timeout:retries:maxAttempts:)` throws.
    public func submit<Job: ProcessJob>(
        _ job: Job, priority: Int = 0, timeout: Duration, retries: Int = 0, maxAttempts: Int = 3
    ) async throws -> QueuedJob<Job.Output> {
        try await submit(job, priority: priority, timeout: timeout.inSeconds, retries: retries, maxAttempts: maxAttempts)
    }

    /// Submits every job with a run time limit of `timeout` each;
    /// `submitAll(_:priority:timeout:retries:maxAttempts:)` with a `Duration`.
    ///
    /// - Returns: the jobs' handles, in input order.
    /// - Throws: what `submitAll(_:priority:timeout:retries:maxAttempts:)` throws.
    public func submitAll<Jobs: Sequence>(
        _ jobs: Jobs, priority: Int = 0, timeout: Duration, retries: Int = 0, maxAttempts: Int = 3
    ) async throws -> [QueuedJob<Jobs.Element.Output>] where Jobs.Element: ProcessJob {
        try await submitAll(jobs, priority: priority, timeout: timeout.inSeconds, retries: retries, maxAttempts: maxAttempts)
    }

    /// Runs every job with a run time limit of `timeout` each and returns their outputs in
    /// order; `map(_:priority:timeout:retries:)` with a `Duration`.
    ///
    /// - Returns: the outputs, in input order.
    /// - Throws: what `map(_:priority:timeout:retries:)` throws.
    public func map<Jobs: Sequence>(
        _ jobs: Jobs, priority: Int = 0, timeout: Duration, retries: Int = 0
    ) async throws -> [Jobs.Element.Output] where Jobs.Element: ProcessJob {
        try await map(jobs, priority: priority, timeout: timeout.inSeconds, retries: retries)
    }

    /// Runs every job with a run time limit of `timeout` each and returns each outcome;
    /// `mapResults(_:priority:timeout:retries:)` with a `Duration`.
    ///
    /// - Returns: one `Result` per job, in input order.
    /// - Throws: what `mapResults(_:priority:timeout:retries:)` throws.
    public func mapResults<Jobs: Sequence>(
        _ jobs: Jobs, priority: Int = 0, timeout: Duration, retries: Int = 0
    ) async throws -> [Result<Jobs.Element.Output, any Error>] where Jobs.Element: ProcessJob {
        try await mapResults(jobs, priority: priority, timeout: timeout.inSeconds, retries: retries)
    }

    /// Runs every job with a run time limit of `timeout` each and yields outputs as they
    /// finish; `imapUnordered(_:priority:timeout:retries:)` with a `Duration`.
    ///
    /// - Returns: the outputs, in the order they finish.
    /// - Throws: what `imapUnordered(_:priority:timeout:retries:)` throws.
    public func imapUnordered<Jobs: Sequence>(
        _ jobs: Jobs, priority: Int = 0, timeout: Duration, retries: Int = 0
    ) async throws -> AsyncThrowingStream<Jobs.Element.Output, any Error> where Jobs.Element: ProcessJob {
        try await imapUnordered(jobs, priority: priority, timeout: timeout.inSeconds, retries: retries)
    }
}
