/// A worker was sent a job type it did not register.
struct UnregisteredJob: Error, Codable, CustomStringConvertible {
    var job: String
    var registered: [String]
    var description: String {
        "the worker does not serve \(job); it registered \(registered) with serveIfWorker(jobs:)"
    }
}
