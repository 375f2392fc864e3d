#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One job on its way through a pool: queued, sent to a worker, or done.
@Hub
final class PoolTask {
    let id: UInt64
    /// The job's registered name, UTF-8.
    let name: [UInt8]
    /// The encoded job.
    let payload: [UInt8]
    /// Duplicates of the descriptors the job carries (``PassedDescriptor``); closed when
    /// the task is done, so a re-queued task can send them again.
    var descriptors: [Int32] = []
    let job: any ProcessJob
    /// Whether the worker it is sent to may take the next task in the same batch.
    var endsBatch = true
    private(set) var isDone = false
    /// How many times a crash may re-queue it instead of failing it.
    var retriesLeft: Int
    var deadline: HubTimer?
    /// When it was sent to its worker.
    var sentAt: UInt64 = 0
    private var complete: ((Result<ArraySlice<UInt8>, any Error>) -> Void)?
    /// The pool that runs it, for cancelling through a handle.
    weak var pool: ProcessPool?

    init(id: UInt64, name: [UInt8], payload: [UInt8], job: any ProcessJob, retries: Int,
         complete: @escaping (Result<ArraySlice<UInt8>, any Error>) -> Void) {
        self.id = id
        self.name = name
        self.payload = payload
        self.job = job
        retriesLeft = retries
        self.complete = complete
    }

    /// The job as a person reads it, shortened; made only when a report needs it.
    var jobDescription: String {
        let text = String(describing: job)
        return text.count > 200 ? String(text.prefix(200)) + "…" : text
    }

    /// Delivers the outcome once; later calls do nothing.
    func finish(_ outcome: Result<ArraySlice<UInt8>, any Error>) {
        guard !isDone else { return }
        isDone = true
        for fd in descriptors { close(fd) }
        descriptors = []
        if let deadline { LoopExecutor.shared.timers.cancel(deadline) }
        deadline = nil
        let complete = self.complete
        self.complete = nil
        complete?(outcome)
    }
}

/// Encodes `job` with `coder`, gathering the descriptors it carries.
///
/// - Throws: ``ProcessPoolError/coding(job:detail:)``.
func encodeJob<Job: ProcessJob>(_ job: Job, coder: any ProcessCoder) throws(ProcessPoolError) -> ([UInt8], [Int32]) {
    let collector = DescriptorCollector()
    do {
        let payload = try DescriptorTransfer.$outgoing.withValue(collector) { try coder.encode(job) }
        guard collector.fds.count <= DescriptorChannel.maxPerJob else {
            for fd in collector.fds { close(fd) }
            throw ProcessPoolError.coding(job: Job.jobName, detail: "more than \(DescriptorChannel.maxPerJob) descriptors")
        }
        return (payload, collector.fds)
    } catch let error as ProcessPoolError {
        throw error
    } catch {
        for fd in collector.fds { close(fd) }
        throw ProcessPoolError.coding(job: Job.jobName, detail: "\(error)")
    }
}

/// Tasks waiting for a worker, in order; crashed workers' unfinished tasks go back in front.
struct TaskQueue {
    private var items: [PoolTask] = []
    private var head = 0

    var isEmpty: Bool { head == items.count }
    var count: Int { items.count - head }

    mutating func append(_ task: PoolTask) {
        items.append(task)
    }

    mutating func pushFront(_ tasks: [PoolTask]) {
        guard !tasks.isEmpty else { return }
        if head >= tasks.count {
            head -= tasks.count
            items.replaceSubrange(head..<(head + tasks.count), with: tasks)
        } else {
            items.replaceSubrange(head..<head, with: tasks)
        }
    }

    mutating func popFirst() -> PoolTask? {
        guard head < items.count else { return nil }
        let task = items[head]
        head += 1
        if head == items.count {
            items.removeAll(keepingCapacity: true)
            head = 0
        } else if head >= 4096 && head * 2 >= items.count {
            items.removeFirst(head)
            head = 0
        }
        return task
    }

    mutating func removeAll() -> [PoolTask] {
        let rest = Array(items[head...])
        items.removeAll()
        head = 0
        return rest
    }
}
