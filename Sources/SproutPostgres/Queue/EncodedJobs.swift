import Sprout

/// The jobs of one submission statement as the table holds them (JSON text), each encoded
/// alone, so that a job that cannot be encoded (a `Double.nan` field) fails alone, as it does
/// in a `ProcessPool` map: its handle is born failed, nothing is inserted for it, and the
/// others are submitted.
struct EncodedJobs {
    /// The text of each job that encodes, in input order.
    private(set) var payloads: [String] = []
    /// The offsets in the batch of the jobs that do not, in order, with the error their
    /// handles fail with: what `ProcessPool` gives such a job.
    private(set) var failures: [(offset: Int, error: ProcessPoolError)] = []

    init<Job: ProcessJob>(_ jobs: ArraySlice<Job>) {
        payloads.reserveCapacity(jobs.count)
        for (offset, job) in jobs.enumerated() {
            do {
                payloads.append(try QueueJSON.encode(job))
            } catch {
                failures.append((offset, ProcessPoolError.coding(job: Job.jobName, detail: "\(error)")))
            }
        }
    }

    /// The submission statement's first parameter: one job as plain text (it goes by the
    /// one-row INSERT), more as an array.
    var parameter: PostgresValue {
        payloads.count == 1 ? .text(payloads[0]) : PostgresArrayLiteral.text(payloads)
    }
}
