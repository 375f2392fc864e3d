import Sprout

/// The input of one `JobQueue` map, submitted as it is needed, as `ProcessPool`'s maps read
/// theirs: ``batch`` rows per statement, and no more than ``window`` jobs submitted and not yet
/// read back at a time — so a huge input never sits in memory or in the table all at once,
/// and an endless one works with `imapUnordered`.
@Hub
final class JobQueueFeed<Jobs: Sequence> where Jobs.Element: ProcessJob {
    typealias Handle = QueuedJob<Jobs.Element.Output>

    /// Jobs per statement: one round trip and one commit for each.
    static var batch: Int { 1000 }
    /// Jobs submitted and not yet read back at most: the hosts always find a batch queued
    /// behind the one they work on.
    static var window: Int { 3 * batch }

    private let queue: JobQueue
    private var jobs: Jobs.Iterator
    private let priority: Int
    private let timeout: Double?
    private let retries: Int
    private var submitted = 0
    /// True once the input has no more jobs.
    private(set) var isExhausted = false

    init(_ jobs: Jobs, queue: JobQueue, priority: Int, timeout: Double?, retries: Int) {
        self.queue = queue
        self.jobs = jobs.makeIterator()
        self.priority = priority
        self.timeout = timeout
        self.retries = retries
    }

    /// Submits the next batch of the input if it fits in the window beside `outstanding`
    /// (jobs submitted and not yet read back); returns their handles, in input order, that of
    /// a job that cannot be encoded born failed (see
    /// ``JobQueue/submitAll(_:priority:timeout:retries:maxAttempts:)``) (none
    /// once the input is exhausted or while the window has no room for a whole batch:
    /// topping it up job by job would cost a statement per job).
    ///
    /// - Throws: what ``JobQueue/submitAll(_:priority:timeout:retries:maxAttempts:)`` throws.
    func next(outstanding: Int) async throws -> [Handle] {
        let room = Self.batch
        guard !isExhausted, Self.window - outstanding >= room else { return [] }
        var batch: [Jobs.Element] = []
        batch.reserveCapacity(room)
        while batch.count < room, let job = jobs.next() { batch.append(job) }
        if batch.count < room { isExhausted = true }
        guard !batch.isEmpty else { return [] }
        // The table's statistics are refreshed after the first batch only (see submitAll).
        let handles = try await queue.submit(batch, priority: priority, timeout: timeout, retries: retries, maxAttempts: 3,
                                             analyze: submitted == 0)
        submitted += handles.count
        return handles
    }
}
