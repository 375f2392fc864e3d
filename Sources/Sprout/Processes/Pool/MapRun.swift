import DequeModule

/// One lazy, bounded map over a pool: it pulls jobs from the input only while fewer than
/// a window's worth are queued, running or finished-but-unread, sends them in chunks, and
/// hands results to its reader in input order or as they finish.
@Hub
final class MapRun<Job: ProcessJob>: MapSink {
    typealias Outcome = Result<Job.Output, any Error>

    private let pool: ProcessPool
    private let coder: any ProcessCoder
    /// Which plain outputs of ``JSONProcessCoder`` are read straight from a chunk's answer
    /// into their slots (``ChunkOutcomes/Records/read(into:count:_:)``), if they are.
    private let plainOutputs: JSONProcessCoder.PlainOutput?
    private let ordered: Bool
    private let fixedChunk: Int?
    private let total: Int?
    private let progress: (@Hub (MapProgress) -> Void)?
    /// The jobs not yet pulled; `nil` once the input is used up or the map abandoned.
    private var input: MapInput<Job>?
    private var nextInput = 0
    private var nextOutput = 0
    /// Pulled from the input and not yet read by the consumer.
    private var inFlight = 0
    /// Outcomes not yet read. Ordered, slot `k` is job `nextOutput + k`'s, empty until it
    /// ends; unordered, the outcomes as they came.
    private let outcomes = MapOutcomes<Job.Output>()
    // Unchecked: touched for every job, where a dynamic exclusivity check costs more than
    // the rest of a tiny job's bookkeeping; the map is used on the hub only.
    /// The tasks of the chunks made (one per chunk, or one per job for jobs that carry
    /// descriptors), until every task of the oldest has ended: what an abandoned map ends.
    @exclusivity(unchecked) private var chunks = Deque<[PoolTask]>()
    private var done = 0
    private var failed = 0
    private let started = monotonicNanoseconds()
    private var reader: Waiter<Void>?
    /// Whether the pool was told the map sends no more jobs.
    private var stoppedFeeding = false
    /// Whether pulling more input waits for a later hub turn.
    private var feedScheduled = false
    /// What encoding one job of the last chunk cost (ns): how much input one slice pulls.
    private var encodingCost: UInt64 = 0

    init<S: Sequence>(pool: ProcessPool, jobs: S, ordered: Bool, chunkSize: Int?,
                      progress: (@Hub (MapProgress) -> Void)?) where S.Element == Job {
        self.pool = pool
        coder = pool.coder
        plainOutputs = coder is JSONProcessCoder ? JSONProcessCoder.PlainOutput(Job.Output.self) : nil
        self.ordered = ordered
        fixedChunk = chunkSize.map { max(1, $0) }
        total = (jobs as? any Collection)?.count
        self.progress = progress
        // An array is cut in slices: a type-erased iterator costs a tiny job's encoding again.
        input = if let array = jobs as? [Job] { .array(array, next: 0) } else { .iterator(AnyIterator(jobs.makeIterator())) }
        pool.mapStartedFeeding(self)
        feed()
    }

    /// Reads every output in input order — what ``ProcessPool/map(_:chunkSize:progress:)``
    /// returns.
    ///
    /// - Throws: the first failed job's error (the rest of the map is then abandoned);
    ///   `CancellationError` if the reading greenlet is killed.
    func outputs() async throws -> [Job.Output] {
        var outputs: [Job.Output] = []
        outputs.reserveCapacity(total ?? 0)
        // Read on the hub, not through the async sequence, whose every step hops off the
        // hub and back.
        while true {
            // What has arrived is taken without awaiting; only waiting suspends.
            try takeReadyOutputs(into: &outputs)
            guard let output = try await nextOutput() else { break }
            outputs.append(output)
        }
        return outputs
    }

    /// The chunk size to use now: the caller's; else as many jobs as last about 2 ms of
    /// worker time (so tiny jobs share frames and slow ones are not held back behind each
    /// other), and for a known input never more than multiprocessing's default, a quarter
    /// of each worker's share. Until the pool knows how long jobs take, chunks start small:
    /// one job for an input of unknown length, ``firstChunk`` for a known one (a window of
    /// large chunks would pull — and, for jobs carrying descriptors, open — much input).
    private var chunkSize: Int {
        if let fixedChunk { return fixedChunk }
        let mean = pool.meanTaskSeconds
        var size = mean.isFinite ? Int(0.002 / max(mean, 1e-7)) : (total == nil ? 1 : Self.firstChunk)
        if let total {
            size = min(size, (total + 4 * pool.size - 1) / (4 * pool.size))
        }
        return min(max(size, 1), Self.largestChunk)
    }

    /// The most jobs in one chunk: enough that a chunk's frames and wake-ups cost little
    /// beside its jobs, few enough that a window of them stays small.
    static var largestChunk: Int { 4096 }
    /// The chunk size for a known input before any job's time is known.
    static var firstChunk: Int { 32 }

    /// Jobs that may be pulled and not yet read: enough to keep every worker's prefetch
    /// full twice over, and no more — unless the pool was closed, whose `join()` waits for
    /// the whole map, read or not.
    private var window: Int {
        if case .closed = pool.state { return .max / 2 }
        return pool.size * max(chunkSize * 4, 2 * ProcessPool.tinyJobPrefetch)
    }

    func poolClosed() {
        guard input != nil, !feedScheduled else { return }
        // On a later turn: `close()` is not the place to run the input's code.
        feedScheduled = true
        Hub.later { [weak self] in
            guard let self else { return }
            feedScheduled = false
            feed()
        }
    }

    /// Pulls input until the window is full, and queues it in chunks with one dispatch —
    /// for at most ``feedSlice`` of the hub's time per turn: pulling input (a sequence may
    /// open a file per job) and encoding it holds the hub, so the rest waits for a later turn.
    private func feed() {
        var batches: [[PoolTask]] = []
        let chunk = chunkSize
        let window = self.window
        let deadline = monotonicNanoseconds() + Self.feedSlice
        var sliceEnded = false
        while input != nil && (inFlight + chunk <= window || inFlight == 0) && !sliceEnded {
            let jobs = pull(chunk, before: deadline, sliceEnded: &sliceEnded)
            let first = nextInput
            nextInput += jobs.count
            inFlight += jobs.count
            // The chunk is encoded in one pass and travels as one task; each job still has
            // its own outcome.
            let encoding = monotonicNanoseconds()
            let batch = pool.makeTasks(jobs, for: self, from: first) { index, error in settle(index, failure: error) }
            let encoded = monotonicNanoseconds()
            encodingCost = (encoded - encoding) / UInt64(max(jobs.count, 1))
            if encoded >= deadline { sliceEnded = true }
            if !batch.isEmpty { batches.append(batch) }
        }
        while let oldest = chunks.first, oldest.allSatisfy(\.isDone) { chunks.removeFirst() }
        chunks.append(contentsOf: batches)
        if !batches.isEmpty { pool.enqueue(batches: batches) }
        // Only once its last jobs are queued: a closed pool may then let its workers go.
        if input == nil { stopFeeding() }
        if sliceEnded && input != nil { feedLater() }
    }

    /// Runs ``feed()`` from the timer heap, due at once, unless that is already asked for:
    /// after the loop has polled I/O and run the timers due. Not `Hub.later`, which runs in
    /// the same drain of the ring whenever the drain's coarse clock has not ticked: slices
    /// ran back to back while timers and answers waited for all of them (10 ms of the hub's
    /// thread at once in PassedDescriptorTests, debug).
    private func feedLater() {
        guard !feedScheduled else { return }
        feedScheduled = true
        _ = Hub.schedule(afterNanoseconds: 0) { [weak self] in
            guard let self else { return }
            feedScheduled = false
            feed()
        }
    }

    /// Up to `count` jobs from the input (setting it to `nil` when used up), fewer where
    /// pulling and encoding them at the cost per job the last chunk's encoding took would
    /// run past `deadline` (then `sliceEnded` is set).
    private func pull(_ count: Int, before deadline: UInt64, sliceEnded: inout Bool) -> [Job] {
        switch input {
        case .array(let array, let next)?:
            var end = min(next + count, array.count)
            // Checked every 16 jobs, as an iterator's are below.
            let affordable = encodingCost == 0 ? Int.max : Int((deadline &- min(deadline, monotonicNanoseconds())) / encodingCost)
            if end - next > affordable {
                end = min(end, next + max(16, affordable & ~15))
                sliceEnded = true
            }
            input = end == array.count ? nil : .array(array, next: end)
            return Self.copy(array[next..<end])
        case .iterator(let iterator)?:
            var jobs: [Job] = []
            jobs.reserveCapacity(count)
            while jobs.count < count {
                guard let job = iterator.next() else {
                    input = nil
                    break
                }
                jobs.append(job)
                if jobs.count & 15 == 0 && monotonicNanoseconds() + UInt64(jobs.count) * encodingCost >= deadline {
                    sliceEnded = true
                    break
                }
            }
            return jobs
        case nil:
            return []
        }
    }

    /// `jobs` as an array of their own, copied with one call of the job type's value
    /// witness: `Array(jobs)` copies element by element through generic code not
    /// specialized for the job type here. Nonisolated, so its closures do not check that
    /// they run on the hub.
    private nonisolated static func copy(_ jobs: ArraySlice<Job>) -> [Job] {
        jobs.withUnsafeBufferPointer { source in
            guard let first = source.baseAddress else { return [] }
            return Array(unsafeUninitializedCapacity: source.count) { target, count in
                target.baseAddress!.initialize(from: first, count: source.count)
                count = source.count
            }
        }
    }

    /// The most time one hub turn spends pulling and encoding a map's input (ns).
    static var feedSlice: UInt64 { 2_000_000 }

    func received(_ index: Int, _ outcome: Result<ArraySlice<UInt8>, any Error>) -> Bool {
        switch outcome {
        case .failure(let error):
            settle(index, failure: error)
            return true
        case .success(let bytes):
            do {
                let output = try coder.decode(Job.Output.self, from: bytes)
                outcomes.put(output, at: slot(index))
                ended()
                return true
            } catch {
                settle(index, failure: ProcessPoolError.coding(job: Job.jobName, detail: "its worker's result did not decode: \(error)"))
                return false
            }
        }
    }

    func received(_ index: Int, count: Int, from records: inout ChunkOutcomes.Records, describe: (Int) -> String) -> Bool {
        var trusted = true
        var offset = 0
        while offset < count {
            if let plainOutputs {
                let slot = slot(index + offset)
                let left = count - offset
                // Static parsers, not closures made here: those would check their isolation per call.
                let read = switch plainOutputs {
                case .integer: records.read(into: outcomes.slots(Int.self, at: slot, count: left), count: left, StreamingJSONDecoder.integer)
                case .string: records.read(into: outcomes.slots(String.self, at: slot, count: left), count: left, StreamingJSONDecoder.string)
                case .bool: records.read(into: outcomes.slots(Bool.self, at: slot, count: left), count: left, StreamingJSONDecoder.bool)
                case .bytes: records.read(into: outcomes.slots([UInt8].self, at: slot, count: left), count: left, JSONProcessCoder.byteArray)
                }
                outcomes.putOutputs(at: slot, count: read)
                ended(read)
                offset += read
                if offset == count { break }
            }
            // An outcome the fast way does not take (a failure, an output of another shape).
            let record = records.next()
            let bytes = records.payload[record.bytes]
            if record.kind == .result {
                trusted = received(index + offset, .success(bytes)) && trusted
            } else {
                settle(index + offset, failure: JobFailed.decode(bytes, job: describe(offset), coder: coder))
            }
            offset += 1
        }
        return trusted
    }

    /// Where job `index`'s outcome goes among the unread ones.
    private func slot(_ index: Int) -> Int {
        ordered ? index - nextOutput : outcomes.count
    }

    private func settle(_ index: Int, failure error: any Error) {
        outcomes.put(failure: error, at: slot(index))
        failed += 1
        ended()
    }

    /// Counts `count` jobs that ended and tells whoever waits.
    private func ended(_ count: Int = 1) {
        guard count > 0 else { return }
        if let progress {
            // Once per job, as each would have been reported alone.
            for _ in 0..<count {
                done += 1
                progress(MapProgress(done: done, total: total, failed: failed, since: started))
            }
        } else {
            done += count
        }
        reader?.wake()
    }

    /// The next result, or `nil` when the input is used up and every result was read.
    ///
    /// - Throws: `CancellationError` if the reading greenlet is killed (the rest of the
    ///   map is then abandoned).
    func next() async throws -> Outcome? {
        try await nextFinished()
    }

    /// The next output, or `nil` when the input is used up and every output was read.
    ///
    /// - Throws: the first failed job's error (the rest of the map is then abandoned);
    ///   `CancellationError` if the reading greenlet is killed.
    func nextOutput() async throws -> Job.Output? {
        switch try await nextFinished() {
        case .success(let value)?: return value
        case .failure(let error)?:
            abandon()
            throw error
        case nil: return nil
        }
    }

    /// Appends the outputs that can be read now, in order, to `outputs`, without awaiting:
    /// `map` reads them in bulk, so a tiny job costs it no suspension.
    ///
    /// - Throws: the first failed job's error (the rest of the map is then abandoned).
    func takeReadyOutputs(into outputs: inout [Job.Output]) throws {
        while true {
            let taken = outcomes.takeReadyOutputs(into: &outputs)
            if taken > 0 { read(taken) }
            guard let outcome = takeReady() else { return }
            switch outcome {
            case .success(let value): outputs.append(value)
            case .failure(let error):
                abandon()
                throw error
            }
        }
    }

    private func nextFinished() async throws -> Outcome? {
        while true {
            if let outcome = takeReady() { return outcome }
            if input == nil && inFlight == 0 { return nil }
            let waiter = Waiter<Void>()
            reader = waiter
            let wake = await park(waiter)
            reader = nil
            if case .cancelled = wake {
                abandon()
                throw CancellationError()
            }
        }
    }

    /// The next outcome if it has arrived, counted as read.
    private func takeReady() -> Outcome? {
        guard let outcome = outcomes.takeFirst() else { return nil }
        read(1)
        return outcome
    }

    /// Counts `count` outcomes as read.
    private func read(_ count: Int) {
        nextOutput += count
        inFlight -= count
        // Refill once half the window is free, so input is queued in bulk — unless a
        // refill already waits for its next slice.
        if inFlight <= window / 2 && !feedScheduled { feed() }
    }

    /// Stops the map: reads no more input and drops its queued jobs; those sent are skipped
    /// by workers that have not reached them (running ones finish, their results ignored).
    func abandon() {
        input = nil
        let tasks = chunks.joined().filter { !$0.isDone }
        chunks = []
        for task in tasks { task.fail { JobCancelled(job: $0) } }
        if !tasks.isEmpty { pool.skipEndedJobs() }
        stopFeeding()
    }

    /// Tells the pool, once, that the map sends no more jobs.
    private func stopFeeding() {
        guard !stoppedFeeding else { return }
        stoppedFeeding = true
        pool.mapStoppedFeeding(self)
    }
}

/// Abandons its map when the last iterator holding it goes away unfinished.
final class MapLifetime<Job: ProcessJob>: Sendable {
    let run: MapRun<Job>

    init(_ run: MapRun<Job>) { self.run = run }

    deinit {
        Hub.later { [run] in run.abandon() }
    }
}

/// Where a map's jobs come from: an array, read in slices, or any other sequence's iterator.
private enum MapInput<Job> {
    case array([Job], next: Int)
    case iterator(AnyIterator<Job>)
}
