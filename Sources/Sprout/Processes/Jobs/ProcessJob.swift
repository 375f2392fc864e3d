/// A unit of work a ``ProcessPool`` runs in a worker process — what a function handed to
/// multiprocessing's `Pool.map` is, made a type: its fields are the arguments, `run()` the
/// body, and `Output` what comes back.
///
/// Because a job must be `Codable & Sendable`, what Python only discovers at run time (a
/// lambda or an open file that cannot be pickled) is a compile-time error here. Every job
/// type a pool sends must be registered in the worker with
/// ``ProcessPool/serveIfWorker(jobs:coder:)``.
///
/// `run()` may be synchronous or `async`, and may throw: the error goes back to whoever
/// awaits the job, as a ``JobFailed`` carrying its type name, message and, when the error
/// is `Codable`, the error value itself.
public protocol ProcessJob: Codable, Sendable {
    /// What `run()` returns; sent back to the parent with the pool's coder.
    associatedtype Output: Codable & Sendable

    /// The name the job is registered and sent under; the module-qualified type name unless
    /// a type provides its own. Parent and worker must agree on it.
    static var jobName: String { get }

    /// Does the work, in the worker process.
    ///
    /// - Throws: whatever the work throws; it is reported to the awaiter as ``JobFailed``.
    func run() async throws -> Output
}

extension ProcessJob {
    /// The module-qualified type name, e.g. `MyApp.CountPrimes`.
    public static var jobName: String { String(reflecting: Self.self) }
}
