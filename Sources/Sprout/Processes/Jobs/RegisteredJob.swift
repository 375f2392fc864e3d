/// One job type a worker can run: its name and a function from encoded job to encoded
/// output (or failure).
struct RegisteredJob: Sendable {
    let name: String
    /// Runs on its caller's executor (nonsending): a worker runs one per job, and a hop to
    /// the generic executor per call costs more than a tiny job.
    let run: nonisolated(nonsending) @Sendable (_ job: ArraySlice<UInt8>, _ coder: any ProcessCoder) async -> (FrameKind, [UInt8])
    /// Decodes an empty object as the job type (which may fail): done once in a fork server,
    /// so the first decode's one-time costs (type metadata, conformance lookups) are paid
    /// there, not in every worker it forks.
    let warmUp: @Sendable (_ coder: any ProcessCoder) -> Void

    /// Runs a chunk's jobs in order within one call, so a map's tiny jobs cost one hop into
    /// the job's code per chunk, not one per job. Before each job it asks `begin` (given the
    /// job's index), which counts the job started and returns false when the worker has
    /// already answered it (cancelled); after each it hands the answer to `end`.
    let runEach: nonisolated(nonsending) @Sendable (_ jobs: [(id: UInt64, job: ArraySlice<UInt8>)], _ coder: any ProcessCoder,
                                                    _ begin: (Int) -> Bool, _ end: (Int, FrameKind, [UInt8]) -> Void) async -> Void

    init<Job: ProcessJob>(_ type: Job.Type) {
        name = Job.jobName
        warmUp = { coder in _ = try? coder.decode(Job.self, from: Array("{}".utf8)[...]) }
        run = { bytes, coder in await RegisteredJob.answer(Job.self, from: bytes, coder: coder) }
        runEach = { jobs, coder, begin, end in
            for index in jobs.indices where begin(index) {
                let (kind, answer) = await RegisteredJob.answer(Job.self, from: jobs[index].job, coder: coder)
                end(index, kind, answer)
            }
        }
    }

    /// Decodes a `Job` from `bytes`, runs it and encodes its output, or the error of any step.
    @inline(__always)
    private static nonisolated(nonsending) func answer<Job: ProcessJob>(_ type: Job.Type, from bytes: ArraySlice<UInt8>,
                                                                         coder: any ProcessCoder) async -> (FrameKind, [UInt8]) {
        do {
            let job = try coder.decode(Job.self, from: bytes)
            let output = try await job.run()
            return (.result, try coder.encode(output))
        } catch {
            return (.failure, RegisteredJob.encodeFailure(error, coder: coder))
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
