import FoundationEssentials
import FuzzSupport
import Sprout

/// Job-like shapes: every scalar the fast path decodes itself, optionals, arrays,
/// nesting and a dictionary.
private struct Job: Codable, Equatable {
    var int: Int
    var text: String
    var flag: Bool
    var ratio: Double
    var list: [Int]
    var maybe: String?
    var inner: Inner?
}

private struct Inner: Codable, Equatable {
    var small: Int8
    var unsigned: UInt16
    var single: Float
    var words: [String]
    var table: [String: Int]?
}

/// `StreamingJSONDecoder` against Foundation's `JSONDecoder` for one type: whatever the
/// fast path decodes, `JSONDecoder` must decode to the same value (the fast path throwing
/// is fine: the pool then asks `JSONDecoder`).
private func compare<Value: Codable & Equatable>(_ type: Value.Type, _ bytes: ArraySlice<UInt8>) {
    guard let fast = try? StreamingJSONDecoder.decode(type, from: bytes) else { return }
    let reference: Value
    do {
        reference = try JSONDecoder().decode(type, from: Data(bytes))
    } catch {
        invariantBroken("the fast path decoded \(fast) from \(String(decoding: bytes, as: UTF8.self).debugDescription); JSONDecoder: \(error)")
    }
    if fast != reference {
        invariantBroken("\(String(decoding: bytes, as: UTF8.self).debugDescription): fast path \(fast), JSONDecoder \(reference)")
    }
}

/// libFuzzer's entry: the streaming JSON decoder never traps and never disagrees with
/// `JSONDecoder` on what it accepts.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzJSONDecoder(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    guard let data else { return 0 }
    let bytes = ArraySlice(UnsafeBufferPointer(start: data, count: size))
    compare(Job.self, bytes)
    compare(Inner.self, bytes)
    compare([Int].self, bytes)
    compare([String].self, bytes)
    compare(Double.self, bytes)
    compare(Bool.self, bytes)
    compare(UInt8.self, bytes)
    compare(String?.self, bytes)
    return 0
}
