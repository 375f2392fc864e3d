#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The environment marker that makes a re-run of the program a pool worker.
enum WorkerEnvironment {
    /// Set in every worker's environment; its value is the channel's descriptor number.
    static let marker = "SPROUT_WORKER_FD"
    /// The descriptor a worker's channel lands on.
    static let channelFD: Int32 = 3
    /// The descriptor a worker receives passed descriptors on.
    static let descriptorFD: Int32 = 4
    /// Bumped when the wire format changes, so a stale worker binary is refused clearly.
    static let protocolVersion = 1

    /// The channel descriptor when this process is a worker, else `nil`.
    static var workerChannel: Int32? {
        guard let value = getenv(marker) else { return nil }
        return Int32(String(cString: value))
    }
}

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
