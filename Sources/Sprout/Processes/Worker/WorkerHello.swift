import FoundationEssentials

/// What a worker says first: who it is and what it serves.
struct WorkerHello: Codable, Sendable {
    var version: Int
    var jobs: [String]

    init(version: Int, jobs: [String]) {
        self.version = version
        self.jobs = jobs
    }

    /// The hello frame of a worker serving `jobs`, ready to send: the same bytes for every
    /// worker of a program, so a fork server makes them once for all the workers it forks
    /// (a JSON encode in a new process costs a tenth of a millisecond or more).
    static func frame(serving jobs: [String: RegisteredJob]) -> [UInt8] {
        let hello = WorkerHello(version: WorkerEnvironment.protocolVersion, jobs: jobs.keys.sorted())
        var frame: [UInt8] = []
        Frame.append(kind: .hello, id: 0, payload: Array((try? JSONEncoder().encode(hello)) ?? Data()), to: &frame)
        return frame
    }

    /// The hello in a frame's payload, or `nil` if it is not one.
    init?(_ payload: [UInt8]) {
        guard let hello = try? JSONDecoder().decode(WorkerHello.self, from: Data(payload)) else { return nil }
        self = hello
    }
}
