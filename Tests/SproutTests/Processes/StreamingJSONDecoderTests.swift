import Testing
import Sprout
import SproutTestSupport

import FoundationEssentials

private struct Member: Codable, Equatable {
    var id: Int
    var name: String?
}

private struct Flags: Codable, Equatable {
    var on: Bool
    var ratio: Double
}

/// More members than an object keeps in place: the rest are looked up past them.
private struct Wide: Codable, Equatable {
    var a: Int
    var b: String
    var c: Bool
    var d: Double
    var e: [Int]
    var f: Int?
}

/// A linked list: the same type again inside, read after the field that holds it.
private final class Node: Decodable, Equatable, Sendable {
    let next: Node?
    let value: Int

    init(value: Int, next: Node?) {
        self.value = value
        self.next = next
    }

    required init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        next = try container.decodeIfPresent(Node.self, forKey: .next)
        value = try container.decode(Int.self, forKey: .value)
    }

    static func == (a: Node, b: Node) -> Bool { a.value == b.value && a.next == b.next }

    private enum CodingKeys: String, CodingKey { case next, value }
}

/// Decodes another document with the same session in the middle of its own `init(from:)`,
/// then reads its own member.
private struct Reentrant: Decodable, Equatable {
    static let session = StreamingJSONDecoder.Session()
    var inner: Member
    var outer: Int

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        inner = try StreamingJSONDecoder.decode(Member.self, from: ArraySlice(#"{"id": 7, "name": "in"}"#.utf8), session: Self.session)
        outer = try container.decode(Int.self, forKey: .outer)
    }

    init(inner: Member, outer: Int) {
        self.inner = inner
        self.outer = outer
    }

    private enum CodingKeys: String, CodingKey { case outer }
}

/// Asks its decoder for two keyed containers of different key types.
private struct TwoViews: Decodable, Equatable {
    var id: Int
    var ratio: Double

    init(from decoder: any Decoder) throws {
        let first = try decoder.container(keyedBy: IDKey.self)
        let second = try decoder.container(keyedBy: RatioKey.self)
        ratio = try second.decode(Double.self, forKey: .ratio)
        id = try first.decode(Int.self, forKey: .id)
    }

    init(id: Int, ratio: Double) {
        self.id = id
        self.ratio = ratio
    }

    private enum IDKey: String, CodingKey { case id }
    private enum RatioKey: String, CodingKey { case ratio }
}

/// Keeps the keyed container its decoder handed out: a session hands the next document of
/// the same type the container it made for the last one.
private struct ContainerProbe: Decodable {
    var id: Int
    /// The container's box (a `KeyedDecodingContainer` is one reference to it), held weakly:
    /// a value that holds its container gets one of its own.
    weak var box: AnyObject?

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        box = unsafeBitCast(container, to: AnyObject.self)
        id = try container.decode(Int.self, forKey: .id)
    }

    private enum CodingKeys: String, CodingKey { case id }
}

/// Inputs the fuzzer (and the RFC) found: the fast path either agrees with JSONDecoder or
/// leaves the input to it by throwing.
@Suite("StreamingJSONDecoder")
struct StreamingJSONDecoderTests {
    private static let session = StreamingJSONDecoder.Session()

    /// The fast path's value, read without a session and twice with one (the second time
    /// from what the first kept), all three the same.
    private func fast<T: Decodable & Equatable>(_ type: T.Type, _ text: String) -> T? {
        let alone = try? StreamingJSONDecoder.decode(type, from: ArraySlice(text.utf8))
        for _ in 0..<2 {
            let kept = try? StreamingJSONDecoder.decode(type, from: ArraySlice(text.utf8), session: Self.session)
            #expect(kept == alone, "\(text) with a session")
        }
        return alone
    }

    @Test
    func leavesWhatJSONDecoderRefusesOrReadsDifferentlyToIt() {
        #expect(fast(String?.self, "nu*l") == nil, "a literal that is not null")
        #expect(fast(Bool.self, "tru3") == nil)
        #expect(fast(Bool.self, "fals3") == nil)
        #expect(fast(Int.self, "+5") == nil)
        #expect(fast(Int.self, "007") == nil)
        #expect(fast(Double.self, "0x10") == nil)
        #expect(fast(Double.self, "-inf") == nil)
        #expect(fast(Double.self, "1e400") == nil, "out of range")
        #expect(fast(Double.self, "1e-775") == nil, "too small: JSONDecoder refuses it")
        #expect(fast(Double.self, "-2.5e-320") == nil, "subnormal")
        #expect(fast(Float.self, "1e-50") == nil, "too small for a Float")
        #expect(fast(Double.self, "0.0e-775") == 0, "a zero is still a zero")
        #expect(fast(Double.self, "0e6") == nil, "JSONDecoder refuses it as a Double")
        #expect(fast(Double.self, "1.") == nil)
        #expect(fast(String.self, "\"a\u{1}b\"") == nil, "a raw control byte")
        #expect(fast([String].self, "[\"\\u0041\"]") == nil, "escapes")
        #expect((try? StreamingJSONDecoder.decode(String.self, from: ArraySlice([34, 0xff, 34]))) == nil, "invalid UTF-8")
        #expect(fast(Member.self, "{\"id\": 1, \"id\": 2}") == nil, "a key given twice")
        #expect(fast(Member.self, "{\"id\": 1, \"junk\": tru}") == nil, "a bad member no one asks for")
        #expect(fast(Member.self, "{\"id\": 1,}") == nil)
        #expect(fast([Int].self, "[1 2]") == nil)
        #expect(fast([Int].self, "[1] x") == nil)
        // JSONDecoder refuses these too (it accepts `{"id": 1,}`: the fast path leaves that to it).
        for text in ["nu*l", "tru3", "+5", "007", "0x10", "{\"id\": 1, \"junk\": tru}", "[1] x"] {
            #expect((try? JSONDecoder().decode(Member.self, from: Data(text.utf8))) == nil, "\(text)")
        }
    }

    /// Integers are read from the bytes in place, in fields (the keyed container's own
    /// `Int` path) and alone: the same values as `T(String)`, and what it refuses is left
    /// to JSONDecoder.
    @Test
    func readsIntegersInPlaceAsTheirStringInitializerDoes() {
        #expect(fast(Int.self, "9223372036854775807") == Int.max)
        #expect(fast(Int.self, "-9223372036854775808") == Int.min)
        #expect(fast(Int.self, "9223372036854775808") == nil, "one past Int.max")
        #expect(fast(Int.self, "-9223372036854775809") == nil, "one past Int.min")
        #expect(fast(Int8.self, "-128") == -128)
        #expect(fast(Int8.self, "128") == nil)
        #expect(fast(UInt8.self, "255") == 255)
        #expect(fast(UInt.self, "-0") == nil, "left to JSONDecoder")
        #expect(fast(Int.self, "-0") == 0)
        #expect(fast(Int.self, "1.0") == nil, "a fraction is left to JSONDecoder")
        #expect(fast(Int.self, "1e2") == nil, "an exponent is left to JSONDecoder")
        #expect(fast(Member.self, "{\"id\": -42}") == Member(id: -42, name: nil))
        #expect(fast(Member.self, "{\"id\": 9223372036854775807, \"name\": \"x\"}") == Member(id: Int.max, name: "x"))
        #expect(fast(Member.self, "{\"id\": 2.5}") == nil)
        #expect(fast(Member.self, "{\"id\": 99999999999999999999}") == nil)
        #expect(fast(Member.self, "{\"id\": \"7\"}") == nil, "a string is not an Int")
        #expect(fast(Flags.self, "{\"on\": true, \"ratio\": 0.5}") == Flags(on: true, ratio: 0.5))
        #expect(fast(Flags.self, "{\"on\": 1, \"ratio\": 0.5}") == nil, "a number is not a Bool")
    }

    @Test
    func readsValidDocumentsAsJSONDecoderDoes() throws {
        let texts = ["{\"id\": -0, \"name\": null}", " { \"id\" : 12 , \"name\" : \"caf\u{e9}\" , \"extra\" : [1, {\"a\": [true, false, null]}, 1.5e-3] } "]
        for text in texts {
            let reference = try JSONDecoder().decode(Member.self, from: Data(text.utf8))
            #expect(fast(Member.self, text) == reference, "\(text)")
        }
        #expect(fast(Double.self, "-12.5E+2") == -1250)
        #expect(fast(Float.self, "0.1") == Float(0.1))
        #expect(fast([Bool?].self, "[true, null, false]") == [true, nil, false])
    }

    @Test
    func readsObjectsWithMoreMembersThanItKeepsInPlace() throws {
        let text = #"{"f": 6, "x": {"y": [1]}, "e": [5, 5], "d": 4.5, "c": true, "b": "two", "a": 1}"#
        let reference = try JSONDecoder().decode(Wide.self, from: Data(text.utf8))
        #expect(fast(Wide.self, text) == reference)
        #expect(fast(Wide.self, #"{"a": 1, "b": "", "c": false, "d": 0, "e": []}"#) == Wide(a: 1, b: "", c: false, d: 0, e: [], f: nil))
        // A key given twice, the second time past the members kept in place, is left to
        // JSONDecoder (which takes the last).
        #expect(fast(Wide.self, #"{"a": 1, "b": "", "c": false, "d": 0, "e": [], "a": 2}"#) == nil)
    }

    /// A session is used: the second document of a type gets the container the first one
    /// got (the session keeps it alive between them — the probes hold it weakly — so a new
    /// one could not have the same address), and `JSONProcessCoder` decodes with its own
    /// session. Without a session each decode makes its own, gone when the decode returns.
    @Test
    func aSessionHandsTheNextDocumentTheContainerItKept() throws {
        let session = StreamingJSONDecoder.Session()
        let first = try StreamingJSONDecoder.decode(ContainerProbe.self, from: ArraySlice(#"{"id": 1}"#.utf8), session: session)
        let second = try StreamingJSONDecoder.decode(ContainerProbe.self, from: ArraySlice(#"{"id": 2}"#.utf8), session: session)
        #expect(first.id == 1 && second.id == 2)
        #expect(first.box != nil && first.box === second.box, "the session's container")
        let alone = try StreamingJSONDecoder.decode(ContainerProbe.self, from: ArraySlice(#"{"id": 3}"#.utf8))
        #expect(alone.id == 3 && alone.box == nil, "no session, a container of its own")
        let coder = JSONProcessCoder()
        let viaCoder = try (1...2).map { try coder.decode(ContainerProbe.self, from: ArraySlice(#"{"id": \#($0)}"#.utf8)) }
        #expect(viaCoder.map(\.id) == [1, 2])
        #expect(viaCoder[0].box != nil && viaCoder[0].box === viaCoder[1].box, "the coder's session")
    }

    /// One session across documents of changing types and values, nested values of the same
    /// type, a decode nested in another's `init(from:)` and two containers for one object:
    /// each document is read as JSONDecoder reads it, never with members kept from another.
    @Test
    func aSessionReadsEachDocumentAsJSONDecoderDoes() throws {
        let session = StreamingJSONDecoder.Session()
        var random = SplitMix64(seed: testSeed())
        func same<T: Decodable & Equatable>(_ type: T.Type, _ text: String) throws {
            let reference = try JSONDecoder().decode(type, from: Data(text.utf8))
            #expect(try StreamingJSONDecoder.decode(type, from: ArraySlice(text.utf8), session: session) == reference, "\(text)")
        }
        for _ in 0..<300 {
            let id = Int(truncatingIfNeeded: random.next())
            switch random.next() % 4 {
            case 0: try same(Member.self, random.next() % 2 == 0 ? #"{"id": \#(id)}"# : #"{"name": "n\#(id % 100)", "id": \#(id)}"#)
            case 1: try same(Flags.self, #"{"ratio": \#(Double(id % 1000) / 8), "on": \#(id % 2 == 0)}"#)
            case 2: try same(Wide.self, #"{"e": [\#(id)], "a": \#(id % 7), "b": "\#(id % 3)", "c": true, "d": 1.5, "f": \#(id % 5)}"#)
            default: try same(Node.self, #"{"next": {"next": {"value": \#(id % 9)}, "value": 2}, "value": \#(id)}"#)
            }
        }
        // A key found at a place in one document, given twice in the next: left to JSONDecoder
        // (which takes the last), not read where it was found before.
        for text in [#"{"id": 1, "name": "a"}"#, #"{"id": 1, "id": 2}"#, #"{"name": "b", "id": 3, "id": 4}"#] {
            let kept = try? StreamingJSONDecoder.decode(Member.self, from: ArraySlice(text.utf8), session: session)
            #expect(kept == (text.contains(#""id": 2"#) || text.contains(#""id": 4"#) ? nil : Member(id: 1, name: "a")), "\(text)")
        }
        let reentrant = try StreamingJSONDecoder.decode(Reentrant.self, from: ArraySlice(#"{"outer": 3}"#.utf8), session: Reentrant.session)
        #expect(reentrant == Reentrant(inner: Member(id: 7, name: "in"), outer: 3))
        for _ in 0..<2 {
            #expect(try StreamingJSONDecoder.decode(TwoViews.self, from: ArraySlice(#"{"ratio": 0.5, "id": 4}"#.utf8), session: session)
                == TwoViews(id: 4, ratio: 0.5))
        }
    }
}
