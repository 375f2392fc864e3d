import FoundationEssentials
import Sprout

/// The job types of the parity checks: every one sends its value to a worker and back.
public let codableParityJobs: [any ProcessJob.Type] = [
    Echo<Int>.self, Echo<Int8>.self, Echo<UInt64>.self, Echo<Double>.self, Echo<Float>.self, Echo<String>.self,
    Echo<Bool>.self, Echo<[UInt8]>.self, Echo<[UInt8]?>.self, Echo<Int??>.self, Echo<[Int: String]>.self,
    Echo<Date>.self, Echo<Data>.self, Echo<Decimal>.self, Echo<ParityRecord>.self, Echo<ParityShape>.self,
] + keyedContainerParityJobs

/// Sends `value` to a worker, which returns it: both directions of the pool's coder.
public struct Echo<Value: Codable & Sendable>: ProcessJob {
    public var value: Value
    public init(_ value: Value) { self.value = value }
    public func run() -> Value { value }
}

/// A struct a user would send: optional, nested, byte and oddly-keyed fields.
public struct ParityRecord: Codable, Sendable {
    public var id: Int
    public var name: String
    public var score: Double?
    public var bytes: [UInt8]
    public var tags: [String: Int]
    public var odd: Bool
    enum CodingKeys: String, CodingKey {
        case id, name, score, bytes, tags
        case odd = "a \"b\"\\é\u{0}"
    }
    public init(id: Int, name: String, score: Double?, bytes: [UInt8], tags: [String: Int], odd: Bool) {
        self.id = id; self.name = name; self.score = score; self.bytes = bytes; self.tags = tags; self.odd = odd
    }
}

/// An enum with associated values, synthesized Codable.
public enum ParityShape: Codable, Sendable {
    case circle(radius: Double)
    case rect(Double, Double)
    case none
    case labelled(name: String, ParityRecord?)
}
