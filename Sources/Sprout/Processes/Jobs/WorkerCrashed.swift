/// The error a job ends with when the worker running it crashed, exited or was killed.
/// The pool replaced the worker; other jobs are unaffected.
public struct WorkerCrashed: Error, CustomStringConvertible, Sendable {
    /// The worker's process id.
    public let pid: Int32
    /// How it ended: exit code or signal.
    public let status: ExitStatus
    /// The job it was running (`String(describing:)`, shortened).
    public let job: String
    /// The last lines the worker wrote to standard error.
    public let stderrTail: String

    public var description: String {
        let tail = stderrTail.isEmpty ? "" : "; its stderr ended with:\n\(stderrTail)"
        return "worker pid \(pid) ended with \(status) while running \(job)\(tail)"
    }
}
