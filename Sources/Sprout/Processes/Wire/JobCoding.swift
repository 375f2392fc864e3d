import Glibc

/// Decodes a job's answer into its output type and hands it to `deliver`: the outcome its
/// awaiter sees. Returns false when a result's bytes did not decode (``PoolTask/finish(_:)``
/// tells the pool, which replaces the worker that sent them).
func deliverOutput<Job: ProcessJob>(_ outcome: Result<ArraySlice<UInt8>, any Error>, of job: Job.Type,
                                    coder: any ProcessCoder, to deliver: (Result<Job.Output, any Error>) -> Void) -> Bool {
    switch outcome {
    case .failure(let error):
        deliver(.failure(error))
        return true
    case .success(let bytes):
        do {
            deliver(.success(try coder.decode(Job.Output.self, from: bytes)))
            return true
        } catch {
            deliver(.failure(ProcessPoolError.coding(job: Job.jobName, detail: "its worker's result did not decode: \(error)")))
            return false
        }
    }
}

/// Encodes `job` with `coder`, gathering the descriptors it carries; the job frame it will
/// travel in (its type's name, `name` UTF-8 bytes, and the payload) must fit in `limit`
/// bytes. The caller passes the name's length: working out `Job.jobName` reflects on the
/// type, which costs more than encoding a small job.
///
/// - Throws: ``ProcessPoolError/coding(job:detail:)``; ``ProcessPoolError/jobTooLarge(job:bytes:limit:)``.
func encodeJob<Job: ProcessJob>(_ job: Job, name: Int, coder: any ProcessCoder, limit: Int) throws(ProcessPoolError) -> ([UInt8], [Int32]) {
    let collector = DescriptorCollector()
    do {
        let payload = try DescriptorTransfer.$outgoing.withValue(collector) { try coder.encode(job) }
        guard collector.fds.count <= DescriptorChannel.maxPerJob else {
            for fd in collector.fds { close(fd) }
            throw ProcessPoolError.coding(job: Job.jobName, detail: "more than \(DescriptorChannel.maxPerJob) descriptors")
        }
        guard name <= Int(UInt16.max) else {
            for fd in collector.fds { close(fd) }
            throw ProcessPoolError.coding(job: Job.jobName, detail: "a job type name of \(name) bytes (at most 65535)")
        }
        let bytes = Frame.jobOverhead + name + payload.count
        guard bytes <= limit else {
            for fd in collector.fds { close(fd) }
            throw ProcessPoolError.jobTooLarge(job: Job.jobName, bytes: bytes, limit: limit)
        }
        return (payload, collector.fds)
    } catch let error as ProcessPoolError {
        throw error
    } catch {
        for fd in collector.fds { close(fd) }
        throw ProcessPoolError.coding(job: Job.jobName, detail: "\(error)")
    }
}
