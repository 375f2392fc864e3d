/// One job type a worker can run: its name and a function from encoded job to its
/// ``Answer`` (encoded output or failure, or an `Int` output's value to write as digits).
struct RegisteredJob: Sendable {
    let name: String
    /// Runs on its caller's executor (nonsending): a worker runs one per job, and a hop to
    /// the generic executor per call costs more than a tiny job.
    let run: nonisolated(nonsending) @Sendable (_ job: ArraySlice<UInt8>, _ coder: any ProcessCoder) async -> Answer
    /// Decodes an empty object as the job type (which may fail): done once in a fork server,
    /// so the first decode's one-time costs (type metadata, conformance lookups) are paid
    /// there, not in every worker it forks.
    let warmUp: @Sendable (_ coder: any ProcessCoder) -> Void

    /// Runs a chunk's jobs in order within one call, so a map's tiny jobs cost one hop into
    /// the job's code per chunk, not one per job. Before each job it asks `begin` (given the
    /// job's index), which counts the job started and returns false when the worker has
    /// already answered it (cancelled); after each it hands the answer to `end`.
    let runEach: nonisolated(nonsending) @Sendable (_ jobs: JobChunk.Items, _ coder: any ProcessCoder,
                                                    _ begin: (Int) -> Bool, _ end: (Int, Answer) -> Void) async -> Void

    /// A job's answer, for the worker to send.
    enum Answer {
        /// Bytes the coder made: an output (``FrameKind/result``) or a ``WireFailure``
        /// (``FrameKind/failure``).
        case encoded(FrameKind, [UInt8])
        /// An `Int` output of a job run with ``JSONProcessCoder``, whose text is its decimal
        /// digits: the worker writes them straight into the answer it holds back, so a tiny
        /// job's output costs no array of its own.
        case decimal(Int)
    }

    init<Job: ProcessJob>(_ type: Job.Type) {
        name = Job.jobName
        warmUp = { coder in _ = try? coder.decode(Job.self, from: Array("{}".utf8)[...]) }
        run = { bytes, coder in
            await RegisteredJob.answer(Job.self, from: bytes, coder: coder, decimal: RegisteredJob.writesDecimal(Job.self, coder))
        }
        runEach = { jobs, coder, begin, end in
            // Decided once per chunk: the generic code cannot compare types for free.
            let decimal = RegisteredJob.writesDecimal(Job.self, coder)
            guard let json = coder as? JSONProcessCoder else {
                for index in jobs.indices where begin(index) {
                    end(index, await RegisteredJob.answer(Job.self, from: jobs[index].job, coder: coder, decimal: decimal))
                }
                return
            }
            // The JSON coder's decoding session is taken once for the chunk, not once a job.
            await json.withChunkDecoder(Job.self) { chunk in
                for index in jobs.indices where begin(index) {
                    end(index, await RegisteredJob.answer(Job.self, from: jobs[index].job, coder: coder, decimal: decimal, chunk: chunk))
                }
            }
        }
    }

    /// Whether a `Job`'s output is an `Int` that `coder` writes as its decimal digits
    /// (``JSONProcessCoder/encode(_:)`` does exactly that), so ``Answer/decimal(_:)`` says
    /// the same as its encoded bytes.
    private static func writesDecimal<Job: ProcessJob>(_ type: Job.Type, _ coder: any ProcessCoder) -> Bool {
        Job.Output.self == Int.self && coder is JSONProcessCoder
    }

    /// Decodes a `Job` from `bytes` (with `chunk` when given), runs it and encodes its output
    /// (`decimal`: hands it over as an `Int`, see ``writesDecimal(_:_:)``), or the error of
    /// any step.
    @inline(__always)
    private static nonisolated(nonsending) func answer<Job: ProcessJob>(_ type: Job.Type, from bytes: ArraySlice<UInt8>,
                                                                         coder: any ProcessCoder, decimal: Bool,
                                                                         chunk: JSONProcessCoder.ChunkDecoder<Job>? = nil) async -> Answer {
        do {
            let job: Job
            if let chunk {
                job = try chunk.decode(bytes)
            } else {
                job = try coder.decode(Job.self, from: bytes)
            }
            let output = try await job.run()
            // A bit cast, not `as!`: the types were checked to be the same, and a dynamic
            // cast costs more than the digits.
            if decimal { return .decimal(unsafeBitCast(output, to: Int.self)) }
            return .encoded(.result, try coder.encode(output))
        } catch {
            return .encoded(.failure, RegisteredJob.encodeFailure(error, coder: coder))
        }
    }

    /// Encodes `error` for the parent, with the value itself when it is `Encodable`.
    static func encodeFailure(_ error: any Error, coder: any ProcessCoder) -> [UInt8] {
        var encoded: [UInt8]?
        if let encodable = error as? any Encodable {
            encoded = try? coder.encode(encodable)
        }
        let failure = WireFailure(
            errorType: String(reflecting: type(of: error)),
            message: String(describing: error),
            encodedError: encoded
        )
        return (try? coder.encode(failure)) ?? []
    }
}

extension RegisteredJob {
    /// The lookup table a worker serves from.
    static func table(_ jobs: [any ProcessJob.Type]) -> [String: RegisteredJob] {
        var table: [String: RegisteredJob] = [:]
        for job in jobs {
            let entry = RegisteredJob(job)
            table[entry.name] = entry
        }
        return table
    }
}
