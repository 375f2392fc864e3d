import Glibc

/// What a pool sends as one unit: a single job (queued, sent to a worker, or done), or a
/// chunk of a map's jobs — one task for the whole chunk, so a map over tiny jobs costs
/// the parent no object, queue entry or dispatch per job. A chunk's items still end one
/// by one, each with its own outcome, in order: item `k` has ledger id `id + k - start`,
/// so the worker counts, cancels and answers items as it does single jobs.
@Hub
final class PoolTask {
    /// The job's id; for a chunk, the id of its item `start` (the ids that follow are its
    /// next items').
    let id: UInt64
    /// The job's registered name, UTF-8.
    let name: [UInt8]
    /// The encoded job; for a chunk, the bytes its items' ``ranges`` lie in (shared by the
    /// chunk's pieces after a split).
    let payload: ArraySlice<UInt8>
    /// Duplicates of the descriptors the job carries (``PassedDescriptor``); closed when
    /// the task is done, so a re-queued task can send them again.
    var descriptors: [Int32] = []
    /// The job, for reports (an already-encoded one's text: ``ProcessPool/submitEncoded(_:payload:timeout:retries:done:)``);
    /// `nil` for a chunk (``describeItem`` tells its items).
    private let job: Any?
    /// Whether the worker it is sent to may take the next task in the same batch.
    var endsBatch = true
    private(set) var isDone = false
    /// How many times a crash may re-queue it instead of failing it.
    var retriesLeft: Int
    /// How many times it went back to the queue because its worker died before starting it.
    var requeues = 0
    var deadline: HubTimer?
    /// When it was sent to its worker.
    var sentAt: UInt64 = 0
    /// Delivers the outcome to the job's awaiter; returns false when a result's bytes did
    /// not decode (it then delivers the decoding error instead).
    private var complete: ((Result<ArraySlice<UInt8>, any Error>) -> Bool)?
    /// For a map's chunk, the map it delivers to instead, and the place of item `start` in
    /// the map's input. Held strongly until the last outcome is delivered: a weak
    /// reference gives every task a side table, and a map ends every task it made before it
    /// goes (``MapRun/abandon()``), so this keeps no map alive for longer.
    private var sink: (any MapSink)?
    private let index: Int
    /// The pool that runs it, for cancelling through a handle (a map's tasks have none).
    weak var pool: ProcessPool?

    // A chunk's items. A single job is a task of one item (0..<1) whose `next` stays 0
    // until it is done.
    /// Where each item's bytes lie in ``payload`` (by its indices; a chunk's only).
    let ranges: [Range<Int>]
    /// The chunk's items are `start..<end` (offsets into ``ranges``).
    let start: Int
    private(set) var end: Int
    /// The first item that has not ended; those before it all have.
    private(set) var next: Int
    /// While the task is with a worker: the first item the worker has not answered.
    var cursor = 0
    /// Describes item `k` of a chunk for reports.
    private let describeItem: ((Int) -> String)?

    init(id: UInt64, name: [UInt8], payload: ArraySlice<UInt8>, job: Any, retries: Int,
         complete: @escaping (Result<ArraySlice<UInt8>, any Error>) -> Bool) {
        self.id = id
        self.name = name
        self.payload = payload
        self.job = job
        retriesLeft = retries
        self.complete = complete
        index = 0
        ranges = []
        start = 0
        end = 1
        next = 0
        describeItem = nil
    }

    /// A chunk of a map's jobs: items `items` of `ranges` (their bytes in `payload`), the
    /// first with id `id`, item `k` being the map's job `index + k`; outcomes go to `sink`.
    init(chunkID id: UInt64, name: [UInt8], payload: ArraySlice<UInt8>, ranges: [Range<Int>], items: Range<Int>,
         sink: any MapSink, index: Int, describe: @escaping (Int) -> String) {
        self.id = id
        self.name = name
        self.payload = payload
        job = nil
        retriesLeft = 0
        self.sink = sink
        self.index = index
        self.ranges = ranges
        start = items.lowerBound
        end = items.upperBound
        next = items.lowerBound
        describeItem = describe
    }

    /// Whether it is a chunk of a map's jobs, sent in ``FrameKind/jobChunk`` frames.
    var isChunk: Bool { describeItem != nil }

    /// How many of its items have not ended (0 once done).
    var remaining: Int { isDone ? 0 : end - next }

    /// The ledger id of item `offset`.
    func itemID(_ offset: Int) -> UInt64 { id &+ UInt64(offset - start) }

    /// The bytes of chunk item `offset`.
    func itemBytes(_ offset: Int) -> ArraySlice<UInt8> { payload[ranges[offset]] }

    /// The job as a person reads it, shortened; for a chunk, its first item not ended.
    var jobDescription: String {
        if let describeItem { return describeItem(min(next, end - 1)) }
        return job.map(Self.describe) ?? ""
    }

    /// `job` as a person reads it, shortened; made only when a report needs it.
    static func describe(_ job: Any) -> String {
        let text = String(describing: job)
        return text.count > 200 ? String(text.prefix(200)) + "…" : text
    }

    /// Delivers the outcome once; later calls do nothing. Returns false when the outcome
    /// was a result whose bytes did not decode: the job then failed with the decoding error,
    /// and the worker that sent them is not to be trusted. A chunk's items not ended all
    /// end with the outcome (callers give a chunk only failures).
    @discardableResult
    func finish(_ outcome: Result<ArraySlice<UInt8>, any Error>) -> Bool {
        guard !isDone else { return true }
        if isChunk {
            var trusted = true
            while !isDone { trusted = endItem(outcome) && trusted }
            return trusted
        }
        isDone = true
        for fd in descriptors { close(fd) }
        descriptors = []
        if let deadline { Hub.cancelTimer(deadline) }
        deadline = nil
        let complete = self.complete
        self.complete = nil
        return complete?(outcome) ?? true
    }

    /// Ends every item not ended with the error `make` builds from the item's description.
    func fail(_ make: (String) -> any Error) {
        while !isDone { failNext(make) }
    }

    /// Ends the first item not ended with the error `make` builds from its description.
    func failNext(_ make: (String) -> any Error) {
        guard !isDone else { return }
        if isChunk {
            endItem(.failure(make(describeItem?(next) ?? "")))
        } else {
            finish(.failure(make(jobDescription)))
        }
    }

    /// A chunk's item `offset` was answered (``FrameKind/result`` or ``FrameKind/failure``
    /// with its bytes): it ends with that outcome unless it has ended already (the map was
    /// abandoned). Returns false when a result did not decode.
    func answerItem(_ offset: Int, kind: FrameKind, payload bytes: ArraySlice<UInt8>, coder: any ProcessCoder) -> Bool {
        guard !isDone, offset == next else { return true }
        if kind == .result { return endItem(.success(bytes)) }
        return endItem(.failure(JobFailed.decode(bytes, job: describeItem?(offset) ?? "", coder: coder)))
    }

    /// Chunk items `items` (the next ones the worker answered) were answered with the next
    /// `items.count` outcomes of `records`: the items not ended yet (the rest were failed
    /// meanwhile, their answers skipped) end with theirs, delivered to the map in one call.
    /// Returns false when a result did not decode.
    func answerItems(_ items: Range<Int>, from records: inout ChunkOutcomes.Records) -> Bool {
        let first = max(items.lowerBound, next)
        guard !isDone, let sink, let describeItem, first < items.upperBound else {
            records.skip(items.count)
            return true
        }
        records.skip(first - items.lowerBound)
        next = items.upperBound
        if next == end {
            isDone = true
            self.sink = nil
        }
        return sink.received(index + first - start, count: items.upperBound - first, from: &records) { describeItem(first + $0) }
    }

    /// Ends chunk item `next` with `outcome`.
    @discardableResult
    private func endItem(_ outcome: Result<ArraySlice<UInt8>, any Error>) -> Bool {
        let offset = next
        next += 1
        guard let sink else { return true }
        if next == end {
            isDone = true
            self.sink = nil
        }
        return sink.received(index + offset - start, outcome)
    }

    /// Cuts a chunk after its first `count` items not ended (at least one, fewer than
    /// ``remaining``): this task keeps them, the returned one takes the rest, with their
    /// own ids and places in the map. For a worker whose `maxTasksPerWorker` leaves room
    /// for only part of the chunk.
    func split(keeping count: Int) -> PoolTask {
        let cut = next + count
        let rest = PoolTask(chunkID: itemID(cut), name: name, payload: payload, ranges: ranges, items: cut..<end,
                            sink: sink!, index: index + cut - start, describe: describeItem!)
        rest.requeues = requeues
        rest.endsBatch = endsBatch
        end = cut
        endsBatch = true
        return rest
    }
}
