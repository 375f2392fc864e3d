import FoundationEssentials

/// What a worker says first: who it is and what it serves.
struct WorkerHello: Codable, Sendable {
    var version: Int
    var jobs: [String]

    init(version: Int, jobs: [String]) {
        self.version = version
        self.jobs = jobs
    }

    /// The hello in a frame's payload, or `nil` if it is not one.
    init?(_ payload: [UInt8]) {
        guard let hello = try? JSONDecoder().decode(WorkerHello.self, from: Data(payload)) else { return nil }
        self = hello
    }
}
