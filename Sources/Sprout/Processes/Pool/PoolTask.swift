import Glibc

/// One job on its way through a pool: queued, sent to a worker, or done.
@Hub
final class PoolTask {
    let id: UInt64
    /// The job's registered name, UTF-8.
    let name: [UInt8]
    /// The encoded job (for a map's job, its part of the chunk's bytes).
    let payload: ArraySlice<UInt8>
    /// Duplicates of the descriptors the job carries (``PassedDescriptor``); closed when
    /// the task is done, so a re-queued task can send them again.
    var descriptors: [Int32] = []
    let job: any ProcessJob
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
    /// For a map's job, the map it delivers to instead, and its place in the map's input.
    /// Held strongly until the outcome is delivered: a weak reference gives every task a
    /// side table (an allocation per job of a map), and a map ends every task it made
    /// before it goes (``MapRun/abandon()``), so this keeps no map alive for longer.
    private var sink: (any MapSink)?
    private let index: Int
    /// The pool that runs it, for cancelling through a handle (a map's tasks have none).
    weak var pool: ProcessPool?

    init(id: UInt64, name: [UInt8], payload: ArraySlice<UInt8>, job: any ProcessJob, retries: Int,
         complete: @escaping (Result<ArraySlice<UInt8>, any Error>) -> Bool) {
        self.id = id
        self.name = name
        self.payload = payload
        self.job = job
        retriesLeft = retries
        self.complete = complete
        index = 0
    }

    /// A map's job, number `index` of its input, delivering its outcome to `sink`.
    init(id: UInt64, name: [UInt8], payload: ArraySlice<UInt8>, job: any ProcessJob, sink: any MapSink, index: Int) {
        self.id = id
        self.name = name
        self.payload = payload
        self.job = job
        retriesLeft = 0
        self.sink = sink
        self.index = index
    }

    /// The job as a person reads it, shortened; made only when a report needs it.
    var jobDescription: String {
        let text = String(describing: job)
        return text.count > 200 ? String(text.prefix(200)) + "…" : text
    }

    /// Delivers the outcome once; later calls do nothing. Returns false when the outcome
    /// was a result whose bytes did not decode: the job then failed with the decoding error,
    /// and the worker that sent them is not to be trusted.
    @discardableResult
    func finish(_ outcome: Result<ArraySlice<UInt8>, any Error>) -> Bool {
        guard !isDone else { return true }
        isDone = true
        for fd in descriptors { close(fd) }
        descriptors = []
        if let deadline { Hub.cancelTimer(deadline) }
        deadline = nil
        if let sink {
            self.sink = nil
            return sink.received(index, outcome)
        }
        let complete = self.complete
        self.complete = nil
        return complete?(outcome) ?? true
    }
}
