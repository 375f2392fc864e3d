import Testing
@testable import Sprout

import FoundationEssentials
import Glibc
import Synchronization
import SproutTestJobs
import SproutTestSupport

private struct Inner: Codable, Equatable {
    var name: String
    var weight: Double?
}

private enum Shape: Codable, Equatable {
    case circle(radius: Double)
    case square(Int)
}

private struct Everything: Codable, Equatable {
    var text = "quote \" backslash \\ newline \n tab \t bell \u{7} é 漢字 🌱 /slash"
    var small: Int8 = -128
    var big: UInt64 = .max
    var whole = 3.0
    var fraction = -0.1
    var single: Float = 2.5
    var flag = true
    var missing: Int? = nil
    var present: Int? = 7
    var list = [1, 2, 3]
    var empty: [String] = []
    var byName = ["a": 1, "b": 2]
    var byNumber = [1: "one", 2: "two"]
    var inner = Inner(name: "x", weight: nil)
    var inners = [Inner(name: "y", weight: 1.5)]
    var shape = Shape.circle(radius: 1.25)
    var date = Date(timeIntervalSince1970: 1_700_000_000.5)
    var data = Data([0, 1, 2, 255])
}

@Suite("JSONProcessCoder")
struct ProcessCoderTests {
    @Test func valuesSurviveTheRoundTrip() throws {
        let coder = JSONProcessCoder()
        let value = Everything()
        #expect(try coder.decode(Everything.self, from: coder.encode(value)[...]) == value)
        #expect(try coder.decode(Int.self, from: coder.encode(-42)[...]) == -42)
        #expect(try coder.decode([UInt8].self, from: coder.encode([UInt8]([9, 8]))[...]) == [9, 8])
        #expect(try coder.decode(String.self, from: coder.encode("a\"b")[...]) == "a\"b")
    }

    /// An integer read the fast way (no decoder) is what `JSONDecoder` reads, or the text
    /// goes to the decoders: leading zeros, a lone sign, exponents and fractions are theirs.
    @Test func integersReadTheFastWayAreWhatJSONDecoderReads() throws {
        let coder = JSONProcessCoder()
        let texts = ["0", "-0", "7", "-12", "07", "-07", "00", "-", "", "1e3", "1.0", " 5", "+5",
                     "123456789012345678", "-12345678901234567", "9223372036854775807", "92233720368547758070"]
        var taken = 0
        for text in texts {
            let foundation = try? JSONDecoder().decode(Int.self, from: Data(text.utf8))
            let ours = try? coder.decode(Int.self, from: Array(text.utf8)[...])
            #expect(ours == foundation, "\(text)")
            if let fast = Array(text.utf8).withUnsafeBytes({ StreamingJSONDecoder.integer($0) }) {
                taken += 1
                #expect(fast == foundation, "\(text) read the fast way")
            }
        }
        #expect(taken == 7, "the plain integers in range are taken")
    }

    /// Strings and booleans read the fast way (no decoder) are what `JSONDecoder` reads;
    /// the plain ones are taken, the rest left to the decoders.
    @Test func stringsAndBooleansReadTheFastWayAreWhatJSONDecoderReads() throws {
        let texts: [[UInt8]] = ["\"\"", "\"plain\"", "\"é✓ 😀\"", "\"del \u{7F}\"", "\"a\\\"b\"", "\"tab\\t\"", "\"\\u00e9\"",
                                "\"raw\ttab\"", "\"open", "\"", "plain", " \"x\"", "\"x\" "].map { Array($0.utf8) }
            + [[0x22, 0xC3, 0x22], [0x22, 0xFF, 0x22], [0x22, 0xED, 0xA0, 0x80, 0x22]]
        var taken = 0
        for text in texts {
            let fast = text.withUnsafeBytes { StreamingJSONDecoder.string($0) }
            if let fast {
                taken += 1
                #expect(fast == (try? JSONDecoder().decode(String.self, from: Data(text))), "\(text)")
                #expect(fast.utf8.elementsEqual(text.dropFirst().dropLast()), "\(text): the same bytes")
            }
        }
        #expect(taken == 4, "the plain strings are taken")
        for text in ["true", "false", "True", "1", " true", "true ", "fals", "nul"] {
            let fast = Array(text.utf8).withUnsafeBytes { StreamingJSONDecoder.bool($0) }
            let foundation = try? JSONDecoder().decode(Bool.self, from: Data(text.utf8))
            #expect(fast == nil || fast == foundation, "\(text)")
            #expect((fast != nil) == (text == "true" || text == "false"), "\(text)")
        }
    }

    /// Only a value of type `[UInt8]` travels as raw bytes: an empty array of another element
    /// type, or an optional holding bytes, is JSON like any other value (an `as? [UInt8]`
    /// cast took both, and a job returning `[String]()` failed as "did not decode").
    @Test func onlyByteArraysTravelRaw() throws {
        let coder = JSONProcessCoder()
        #expect(try coder.decode([String].self, from: coder.encode([String]())[...]) == [])
        #expect(try coder.decode([Int].self, from: coder.encode([Int]())[...]) == [])
        #expect(try coder.decode([UInt8].self, from: coder.encode([UInt8]())[...]) == [])
        let optionalBytes: [UInt8]? = [1, 2]
        #expect(try coder.decode([UInt8]?.self, from: coder.encode(optionalBytes)[...]) == [1, 2])
        let optionalInteger: Int? = 5
        #expect(try coder.decode(Int?.self, from: coder.encode(optionalInteger)[...]) == 5)
        var buffer: [UInt8] = []
        let chunks: [[UInt8]] = [[], [0, 255], [7]]
        let ranges = try coder.encode(each: chunks, into: &buffer)
        #expect(try ranges.map { try coder.decode([UInt8].self, from: buffer[$0]) } == chunks)
    }

    @Test func theStreamingEncoderWritesWhatJSONDecoderReads() throws {
        let inner = Inner(name: "line\nbreak", weight: 2)
        let bytes = try StreamingJSONEncoder.encode(inner)
        #expect(String(decoding: bytes, as: UTF8.self) == #"{"name":"line\nbreak","weight":2}"#)
        #expect(try JSONDecoder().decode(Inner.self, from: Data(bytes)) == inner)
        #expect(throws: StreamingJSONEncoder.Unsupported.self) { _ = try StreamingJSONEncoder.encode(Shape.square(1)) }
        #expect(throws: StreamingJSONEncoder.Unsupported.self) { _ = try StreamingJSONEncoder.encode(Double.nan) }
    }

    /// A negative zero keeps its sign, as through JSONEncoder ("-0"), alone, as a field and
    /// in a chunk: the whole-number path wrote "0", so -0.0 arrived as +0.0.
    @Test func aNegativeZeroKeepsItsSign() throws {
        struct Signed: Codable { var double: Double; var float: Float }
        let coder = JSONProcessCoder()
        #expect(try coder.encode(-0.0) == Array(JSONEncoder().encode(-0.0)))
        let back = try coder.decode(Signed.self, from: coder.encode(Signed(double: -0.0, float: -0.0))[...])
        #expect(back.double.sign == .minus && back.float.sign == .minus)
        var buffer: [UInt8] = []
        let ranges = try coder.encode(each: [-0.0, 0.0, -3.0], into: &buffer)
        #expect(try ranges.map { try coder.decode(Double.self, from: buffer[$0]).sign } == [.minus, .plus, .minus])
    }

    /// A chunk encoded in one call reads back value by value, whichever path each value
    /// takes (plain integers and strings, escapes, the extremes, Foundation's fallback).
    @Test func encodingEachOfAChunkReadsBackOneByOne() throws {
        struct Item: Codable, Equatable {
            var n: Int
            var text: String
        }
        let items = [Item(n: Int.min, text: "quote \" backslash \\ newline \n"), Item(n: Int.max, text: ""),
                     Item(n: 0, text: "é 漢字 🌱"), Item(n: -7, text: "plain")]
        let coder = JSONProcessCoder()
        var buffer: [UInt8] = [9, 9]
        let ranges = try coder.encode(each: items, into: &buffer)
        #expect(ranges.first?.lowerBound == 2 && ranges.last?.upperBound == buffer.count)
        #expect(try ranges.map { try JSONDecoder().decode(Item.self, from: Data(buffer[$0])) } == items)
        let shapes = [Shape.square(3), Shape.circle(radius: 0.5)]
        var fallback: [UInt8] = []
        let shapeRanges = try coder.encode(each: shapes, into: &fallback)
        #expect(try shapeRanges.map { try coder.decode(Shape.self, from: fallback[$0]) } == shapes)
    }

    /// A chunk's values share one encoder only while none keeps it: a value that holds on to
    /// the encoder it was given gets it to itself, and the next value a fresh one.
    @Test func aChunkSharesItsEncoderOnlyWhileNoValueKeepsIt() throws {
        final class Kept: @unchecked Sendable { var encoders: [any Encoder] = [] }
        struct Keeper: Encodable {
            let kept: Kept
            let n: Int
            func encode(to encoder: any Encoder) throws {
                kept.encoders.append(encoder)
                var container = encoder.container(keyedBy: CodingKeys.self)
                try container.encode(n, forKey: .n)
            }
            enum CodingKeys: String, CodingKey { case n }
        }
        let kept = Kept()
        var buffer: [UInt8] = []
        let ranges = try StreamingJSONEncoder.encode(each: (1...3).map { Keeper(kept: kept, n: $0) }, into: &buffer)
        #expect(ranges.map { String(decoding: buffer[$0], as: UTF8.self) } == [#"{"n":1}"#, #"{"n":2}"#, #"{"n":3}"#])
        let objects = kept.encoders.map { ObjectIdentifier($0 as AnyObject) }
        #expect(Set(objects).count == 3)
    }

    /// A chunk's encoder hands the keyed container it made to the next value that asks for
    /// the same key type, and a new one when the key type changes: values whose
    /// `encode(to:)` switches between key types each come out whole and right.
    @Test func aChunkOfValuesWithChangingKeyTypesEncodesEachRight() throws {
        struct Either: Encodable {
            let n: Int
            enum Small: String, CodingKey { case n, half }
            enum Large: String, CodingKey { case large, n }
            func encode(to encoder: any Encoder) throws {
                if n < 3 {
                    var container = encoder.container(keyedBy: Small.self)
                    try container.encode(n, forKey: .n)
                    try container.encode(Double(n) / 2, forKey: .half)
                } else {
                    var container = encoder.container(keyedBy: Large.self)
                    try container.encode(true, forKey: .large)
                    try container.encode(n, forKey: .n)
                }
            }
        }
        let values = [1, 2, 5, 6, 0, 7, 1].map(Either.init)
        var buffer: [UInt8] = []
        let ranges = try StreamingJSONEncoder.encode(each: values, into: &buffer)
        // In the order encode(to:) writes them (JSONEncoder's own order varies from run to run).
        let expected = [#"{"n":1,"half":0.5}"#, #"{"n":2,"half":1}"#, #"{"large":true,"n":5}"#, #"{"large":true,"n":6}"#,
                        #"{"n":0,"half":0}"#, #"{"large":true,"n":7}"#, #"{"n":1,"half":0.5}"#]
        #expect(ranges.map { String(decoding: buffer[$0], as: UTF8.self) } == expected)
    }

    /// A chunk's encoder writes into a buffer of its own that grows as it goes, and hands a
    /// value the keyed container it kept from the last one: a chunk much larger than the
    /// first guess (16 bytes a value), control characters, a value that opens its keyed
    /// container twice, and values nested in values of the same type all read back.
    @Test func aChunkOfEveryShapeReadsBack() throws {
        struct Node: Codable, Equatable {
            var label: String
            var children: [Node]
        }
        struct Twice: Codable, Equatable {
            var a: Int
            var b: String
            enum CodingKeys: String, CodingKey { case a, b }
            init(a: Int, b: String) {
                self.a = a
                self.b = b
            }
            func encode(to encoder: any Encoder) throws {
                var first = encoder.container(keyedBy: CodingKeys.self)
                var second = encoder.container(keyedBy: CodingKeys.self)
                try first.encode(a, forKey: .a)
                try second.encode(b, forKey: .b)
            }
        }
        let nodes = (0..<50).map { n in
            Node(label: String(repeating: "\u{1}\u{1f}x", count: n * 40),
                 children: [Node(label: "\(n)", children: [Node(label: "leaf \t", children: [])])])
        }
        let coder = JSONProcessCoder()
        var buffer: [UInt8] = []
        let ranges = try coder.encode(each: nodes, into: &buffer)
        #expect(buffer.count > 50 * 16 * 10)
        #expect(try ranges.map { try JSONDecoder().decode(Node.self, from: Data(buffer[$0])) } == nodes)
        let twice = (0..<3).map { Twice(a: $0, b: "b\($0)") }
        var twiceBuffer: [UInt8] = []
        let twiceRanges = try coder.encode(each: twice, into: &twiceBuffer)
        #expect(twiceRanges.map { String(decoding: twiceBuffer[$0], as: UTF8.self) } == [#"{"a":0,"b":"b0"}"#, #"{"a":1,"b":"b1"}"#, #"{"a":2,"b":"b2"}"#])
    }

    /// Coding keys a chunk's encoder has written are written again from a cache, matched by
    /// their bytes: a key equal to a cached one only as Unicode text (another normalization)
    /// keeps its own bytes. (accept's repro.)
    @Test func keysThatDifferOnlyInNormalizationKeepTheirBytes() throws {
        var buffer: [UInt8] = []
        let ranges = try JSONProcessCoder().encode(each: [["\u{e9}": 1], ["e\u{301}": 2]], into: &buffer)
        #expect(Array(buffer[ranges[0]]) == Array(#"{"\#u{e9}":1}"#.utf8))
        #expect(Array(buffer[ranges[1]]) == Array(#"{"e\#u{301}":2}"#.utf8))
    }

    /// The keyed container's own paths for the commonest fields (and the coder's for a
    /// lone `Int`) write the same text as `JSONEncoder`.
    @Test func theStreamingEncoderWritesFieldsAsJSONEncoderDoes() throws {
        // In key order, so JSONEncoder's sorted output is the streamed order.
        struct Fields: Codable {
            var flag: Bool
            var id: Int
            var low: Int
            var maybe: String?
            var name: String
            var off: Bool
            var quoted: String
            var ratio: Double
            var whole: Double
        }
        let fields = Fields(flag: true, id: -5, low: .min, maybe: "m", name: "né 🌱", off: false,
                            quoted: "a\"b\\c\n", ratio: 0.5, whole: 3)
        let sorted = JSONEncoder()
        sorted.outputFormatting = .sortedKeys
        let streamed = String(decoding: try StreamingJSONEncoder.encode(fields), as: UTF8.self)
        #expect(streamed == String(decoding: try sorted.encode(fields), as: UTF8.self))
        let coder = JSONProcessCoder()
        for value in [0, 7, -1, Int.max, Int.min] {
            #expect(try coder.encode(value) == Array(String(value).utf8))
        }
    }

    /// A value may keep the keyed container its `init(from:)` was given and read it later, as
    /// `JSONDecoder`'s containers allow (accept's report, COORD 03:55 of session 10: the
    /// streaming decoder's kept container read whatever document its session decoded last,
    /// and through a pool, where the bytes are gone by then, freed memory). Each document's
    /// bytes are overwritten in place once decoded: a container that still read them, rather
    /// than keeping them, would read the overwritten digits.
    @Test func aValueThatKeepsItsContainerReadsItsOwnDocumentLater() throws {
        let coder = JSONProcessCoder()
        var kept: [LazyFields] = []
        var nested: [HoldsLazy] = []
        for n in 0..<5 {
            var bytes = try coder.encode(LazyFields(a: n, list: [n, n]))
            kept.append(try coder.decode(LazyFields.self, from: bytes[...]))
            Self.scribble(&bytes)
            var outer = try coder.encode(HoldsLazy(lazy: LazyFields(a: 10 + n, list: [n]), n: n))
            nested.append(try coder.decode(HoldsLazy.self, from: outer[...]))
            Self.scribble(&outer)
        }
        #expect(kept.map(\.a) == [0, 1, 2, 3, 4])
        #expect(kept.map(\.list) == (0..<5).map { [$0, $0] })
        #expect(nested.map(\.lazy.a) == [10, 11, 12, 13, 14])
        #expect(nested.map(\.lazy.list) == (0..<5).map { [$0] })
        #expect(nested.map(\.n) == [0, 1, 2, 3, 4])
        // A value that keeps its decoder, not a container, likewise.
        var bytes = try coder.encode(LazyFields(a: 7, list: []))
        let later = try coder.decode(KeepsItsDecoder.self, from: bytes[...])
        Self.scribble(&bytes)
        _ = try coder.decode(LazyFields.self, from: coder.encode(LazyFields(a: 8, list: [8]))[...])
        #expect(later.a == 7)
    }

    /// A worker decodes a map's chunk with the session taken once for it
    /// (`JSONProcessCoder.withChunkDecoder`, from `RegisteredJob.runEach`): each job's decode
    /// still ends on its own, so a value that keeps its container reads its own document
    /// later; a decode with the same coder meanwhile (in a job's `run()`) goes without the
    /// session and is whole too.
    @Test func aChunkDecodedWithOneSessionLeavesEachKeptValueItsOwnDocument() async throws {
        let coder = JSONProcessCoder()
        let decoded: [LazyFields?]? = await coder.withChunkDecoder(LazyFields.self) { chunk in
            guard let chunk else { return nil }
            var decoded: [LazyFields?] = []
            for n in 0..<5 {
                var bytes = (try? coder.encode(LazyFields(a: n, list: [n, n]))) ?? []
                decoded.append(try? chunk.decode(bytes[...]))
                Self.scribble(&bytes)
                var between = (try? coder.encode(LazyFields(a: 10 + n, list: [n]))) ?? []
                decoded.append(try? coder.decode(LazyFields.self, from: between[...]))
                Self.scribble(&between)
            }
            return decoded
        }
        let values = try #require(decoded, "the chunk got no session")
        #expect(values.map { $0?.a } == (0..<5).flatMap { [$0, 10 + $0] })
        #expect(values.map { $0?.list } == (0..<5).flatMap { [[$0, $0], [$0]] })
        // The session is given back: the next chunk gets it.
        #expect(await coder.withChunkDecoder(LazyFields.self) { $0 != nil })
    }

    /// A container kept past its decode reads later what the fast path leaves to JSONDecoder
    /// (nested containers, `Data`, a missing key's error) through JSONDecoder, as a
    /// decode would have: with no decode left to fall back, the fast path's internal refusal
    /// reached the value's code (accept, COORD 07:28: KeptUnkeyed read `Unsupported()`).
    @Test func aKeptContainerReadsLaterWhatTheFastPathLeavesToJSONDecoder() throws {
        struct KeptUnkeyed: Decodable {
            let top: any UnkeyedDecodingContainer
            init(from decoder: any Decoder) throws { top = try decoder.unkeyedContainer() }
            func read() throws -> (Int, [String], Data, Bool) {
                var all = top
                let count = try all.decode(Int.self)
                var nested = try all.nestedUnkeyedContainer()
                var tail: [String] = []
                while !nested.isAtEnd { tail.append(try nested.decode(String.self)) }
                let bytes = try all.decode(Data.self)
                var atEnd = false
                do { _ = try all.decode(Int.self) } catch DecodingError.valueNotFound { atEnd = true }
                return (count, tail, bytes, atEnd)
            }
        }
        struct KeptKeyed: Decodable {
            enum Key: String, CodingKey { case inner, data, missing }
            enum Inner: String, CodingKey { case n }
            let top: KeyedDecodingContainer<Key>
            init(from decoder: any Decoder) throws { top = try decoder.container(keyedBy: Key.self) }
            func read() throws -> (Int, Data, Bool) {
                let n = try top.nestedContainer(keyedBy: Inner.self, forKey: .inner).decode(Int.self, forKey: .n)
                let data = try top.decode(Data.self, forKey: .data)
                var missing = false
                do { _ = try top.decode(Int.self, forKey: .missing) } catch DecodingError.keyNotFound { missing = true }
                return (n, data, missing)
            }
        }
        let coder = JSONProcessCoder()
        let unkeyed = try coder.decode(KeptUnkeyed.self, from: Array(#"[3, ["x", "y"], "AQI="]"#.utf8)[...])
        let keyed = try coder.decode(KeptKeyed.self, from: Array(#"{"inner": {"n": 5}, "data": "AQI="}"#.utf8)[...])
        let alone = try StreamingJSONDecoder.decode(KeptKeyed.self, from: Array(#"{"inner": {"n": 6}, "data": ""}"#.utf8)[...])
        let (count, tail, bytes, atEnd) = try unkeyed.read()
        #expect(count == 3 && tail == ["x", "y"] && bytes == Data([1, 2]) && atEnd)
        let (n, data, missing) = try keyed.read()
        #expect(n == 5 && data == Data([1, 2]) && missing)
        let (m, empty, _) = try alone.read()
        #expect(m == 6 && empty.isEmpty)
    }

    /// Overwrites every digit of `bytes` in place (with 9s), as a buffer reused for the next frame would be.
    private static func scribble(_ bytes: inout [UInt8]) {
        bytes.withUnsafeMutableBufferPointer { buffer in
            for index in buffer.indices where buffer[index] >= 48 && buffer[index] <= 57 { buffer[index] = 57 }
        }
    }

    /// Keeps its decoding container and reads its fields only when asked, after
    /// `init(from:)` returned (accept's LazyFields).
    private struct LazyFields: Codable {
        enum Key: String, CodingKey { case a, list }
        private let kept: KeyedDecodingContainer<Key>?
        private let written: (a: Int, list: [Int])
        init(a: Int, list: [Int]) { kept = nil; written = (a, list) }
        init(from decoder: any Decoder) throws { kept = try decoder.container(keyedBy: Key.self); written = (0, []) }
        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: Key.self)
            try container.encode(a, forKey: .a)
            try container.encode(list, forKey: .list)
        }
        var a: Int { kept.map { (try? $0.decode(Int.self, forKey: .a)) ?? -999 } ?? written.a }
        var list: [Int] { kept.map { (try? $0.decode([Int].self, forKey: .list)) ?? [-999] } ?? written.list }
    }

    private struct HoldsLazy: Codable {
        var lazy: LazyFields
        var n: Int
    }

    /// Keeps the decoder itself, and asks it for a container only later.
    private struct KeepsItsDecoder: Decodable {
        let decoder: any Decoder
        init(from decoder: any Decoder) throws { self.decoder = decoder }
        var a: Int { (try? decoder.container(keyedBy: LazyFields.Key.self).decode(Int.self, forKey: .a)) ?? -999 }
    }

    /// A keyed container kept past its value's `encode(to:)` and written later writes nowhere
    /// (the value's text is done): not into the next value of a chunk, which shares the
    /// encoder and its kept container, nor into the enclosing value's text, nor when encoded alone.
    @Test func aContainerWrittenAfterItsValueWasEncodedWritesNowhere() throws {
        let holder = ContainerHolder()
        let values = (1...4).map { LateWriter(a: $0, holder: holder) }
        var buffer: [UInt8] = []
        let ranges = try StreamingJSONEncoder.encode(each: values, into: &buffer)
        #expect(ranges.map { String(decoding: buffer[$0], as: UTF8.self) } == (1...4).map { #"{"a":\#($0)}"# })
        let coder = JSONProcessCoder()
        #expect(String(decoding: try coder.encode(LateWriter(a: 5, holder: holder)), as: UTF8.self) == #"{"a":5}"#)
        #expect(String(decoding: try coder.encode(LateWriter(a: 6, holder: holder)), as: UTF8.self) == #"{"a":6}"#)
        let pair = Pair(first: LateWriter(a: 7, holder: holder), second: LateWriter(a: 8, holder: holder))
        #expect(String(decoding: try coder.encode(pair), as: UTF8.self) == #"{"first":{"a":7},"second":{"a":8}}"#)
        // Written once more after everything was encoded: still nowhere, and no crash.
        try holder.kept?.encode(-1, forKey: .late)
    }

    /// A coder reuses its streaming encoder from one value encoded alone to the next (as a
    /// chunk does from job to job): each value still gets its own text after a value that
    /// threw midway, one that kept its encoder, a value of another type, and one whose
    /// `encode(to:)` uses the same coder (which then encodes without the reused encoder).
    @Test func valuesEncodedOneByOneWithOneCoderGetTheirOwnText() throws {
        struct Fails: Encodable {
            enum Key: String, CodingKey { case a, b }
            func encode(to encoder: any Encoder) throws {
                var container = encoder.container(keyedBy: Key.self)
                try container.encode(1, forKey: .a)
                throw EncodingError.invalidValue(1, .init(codingPath: [], debugDescription: "midway"))
            }
        }
        final class Encoders: @unchecked Sendable { var kept: [any Encoder] = [] }
        struct KeepsItsEncoder: Encodable {
            let encoders: Encoders
            func encode(to encoder: any Encoder) throws {
                encoders.kept.append(encoder)
                var container = encoder.singleValueContainer()
                try container.encode("kept")
            }
        }
        struct UsesTheCoder: Encodable {
            let coder: JSONProcessCoder
            enum Key: String, CodingKey { case inner }
            func encode(to encoder: any Encoder) throws {
                var container = encoder.container(keyedBy: Key.self)
                try container.encode(String(decoding: try coder.encode(Inner(name: "i", weight: 2)), as: UTF8.self), forKey: .inner)
            }
        }
        let coder = JSONProcessCoder()
        func text<Value: Encodable>(_ value: Value) throws -> String { String(decoding: try coder.encode(value), as: UTF8.self) }
        #expect(try text(Inner(name: "a", weight: 1)) == #"{"name":"a","weight":1}"#)
        #expect(throws: EncodingError.self) { try text(Fails()) }
        #expect(try text(Inner(name: "b", weight: nil)) == #"{"name":"b"}"#)
        let encoders = Encoders()
        #expect(try text(KeepsItsEncoder(encoders: encoders)) == #""kept""#)
        #expect(try text(KeepsItsEncoder(encoders: encoders)) == #""kept""#)
        #expect(try text([1, 2]) == "[1,2]")
        #expect(try text(UsesTheCoder(coder: coder)) == #"{"inner":"{\"name\":\"i\",\"weight\":2}"}"#)
        #expect(try text(Inner(name: String(repeating: "x", count: 100_000), weight: 3)).count == 100_022)
        #expect(try text(Inner(name: "c", weight: 4)) == #"{"name":"c","weight":4}"#)
        #expect(Set(encoders.kept.map { ObjectIdentifier($0 as AnyObject) }).count == 2)
    }

    /// A coder keeps its streaming encoder from one chunk to the next (a map's chunks, as
    /// single jobs do): each chunk still gets its own text, where its ranges say, after a
    /// chunk whose value threw midway, one whose values kept their encoder or a container
    /// (written again later), one of another type, one nested in a value's `encode(to:)`,
    /// and a chunk larger than what the coder keeps between calls.
    @Test func chunksEncodedWithOneCoderGetTheirOwnText() throws {
        struct Fails: Encodable {
            enum Key: String, CodingKey { case name }
            func encode(to encoder: any Encoder) throws {
                var container = encoder.container(keyedBy: Key.self)
                try container.encode("half", forKey: .name)
                throw EncodingError.invalidValue(1, .init(codingPath: [], debugDescription: "midway"))
            }
        }
        enum Either: Encodable {
            case inner(Inner), fails(Fails)
            func encode(to encoder: any Encoder) throws {
                switch self {
                case .inner(let inner): try inner.encode(to: encoder)
                case .fails(let fails): try fails.encode(to: encoder)
                }
            }
        }
        final class Encoders: @unchecked Sendable { var kept: [any Encoder] = [] }
        struct KeepsItsEncoder: Encodable {
            let encoders: Encoders
            enum Key: String, CodingKey { case name }
            func encode(to encoder: any Encoder) throws {
                encoders.kept.append(encoder)
                var container = encoder.container(keyedBy: Key.self)
                try container.encode("kept", forKey: .name)
            }
        }
        struct EncodesAChunk: Encodable {
            let coder: JSONProcessCoder
            enum Key: String, CodingKey { case inner }
            func encode(to encoder: any Encoder) throws {
                var bytes: [UInt8] = []
                let ranges = try coder.encode(each: [Inner(name: "n", weight: 1)], into: &bytes)
                var container = encoder.container(keyedBy: Key.self)
                try container.encode(String(decoding: bytes[ranges[0]], as: UTF8.self), forKey: .inner)
            }
        }
        let coder = JSONProcessCoder()
        func texts<Value: Encodable>(_ values: [Value]) throws -> [String] {
            var buffer: [UInt8] = Array("prefix".utf8)
            let ranges = try coder.encode(each: values, into: &buffer)
            #expect(String(decoding: buffer.prefix(6), as: UTF8.self) == "prefix")
            #expect(ranges.first?.lowerBound == 6 && ranges.last?.upperBound == buffer.count)
            return ranges.map { String(decoding: buffer[$0], as: UTF8.self) }
        }
        #expect(try texts([Inner(name: "a", weight: 1), Inner(name: "b", weight: nil)]) == [#"{"name":"a","weight":1}"#, #"{"name":"b"}"#])
        #expect(throws: EncodingError.self) { try texts([Either.inner(Inner(name: "c", weight: 2)), .fails(Fails())]) }
        #expect(try texts([Inner(name: "d", weight: 3)]) == [#"{"name":"d","weight":3}"#])
        let encoders = Encoders()
        #expect(try texts([KeepsItsEncoder(encoders: encoders), KeepsItsEncoder(encoders: encoders)]) == [#"{"name":"kept"}"#, #"{"name":"kept"}"#])
        #expect(try texts([KeepsItsEncoder(encoders: encoders)]) == [#"{"name":"kept"}"#])
        #expect(Set(encoders.kept.map { ObjectIdentifier($0 as AnyObject) }).count == 3)
        let holder = ContainerHolder()
        #expect(try texts([LateWriter(a: 1, holder: holder), LateWriter(a: 2, holder: holder)]) == [#"{"a":1}"#, #"{"a":2}"#])
        #expect(try texts([LateWriter(a: 3, holder: holder)]) == [#"{"a":3}"#])
        #expect(try texts([1, 2, 3]) == ["1", "2", "3"])
        #expect(try texts([EncodesAChunk(coder: coder)]) == [#"{"inner":"{\"name\":\"n\",\"weight\":1}"}"#])
        let large = try texts((0..<3_000).map { Inner(name: String(repeating: "x", count: 30), weight: Double($0)) })
        #expect(large.count == 3_000 && large[2_999] == #"{"name":"\#(String(repeating: "x", count: 30))","weight":2999}"#)
        #expect(try texts([Inner(name: "e", weight: 5)]) == [#"{"name":"e","weight":5}"#])
        try holder.kept?.encode(-1, forKey: .late)
    }

    private final class ContainerHolder: @unchecked Sendable {
        var kept: KeyedEncodingContainer<LateWriter.Key>?
    }

    /// Writes into the container the value before it kept, then keeps its own.
    private struct LateWriter: Encodable {
        enum Key: String, CodingKey { case a, late }
        let a: Int
        let holder: ContainerHolder
        func encode(to encoder: any Encoder) throws {
            try holder.kept?.encode(-1, forKey: .late)
            var container = encoder.container(keyedBy: Key.self)
            try container.encode(a, forKey: .a)
            holder.kept = container
        }
    }

    private struct Pair: Encodable {
        let first: LateWriter
        let second: LateWriter
    }

    @Test func theStreamingDecoderReadsWhatTheEncodersWrite() throws {
        struct Plain: Codable, Equatable {
            var id: Int
            var name: String
            var scores: [Double]
            var inner: Inner
            var maybe: Int?
            var tags: [String: Int]
            var flag: Bool
            var tiny: Int8
        }
        let plain = Plain(id: -5, name: "né 🌱", scores: [1, 2.5, -1e20], inner: Inner(name: "i", weight: nil),
                          maybe: nil, tags: ["a": 1], flag: false, tiny: -3)
        let fast = try StreamingJSONEncoder.encode(plain)
        #expect(try StreamingJSONDecoder.decode(Plain.self, from: fast[...]) == plain)
        let foundation = Array(try JSONEncoder().encode(plain))
        #expect(try StreamingJSONDecoder.decode(Plain.self, from: foundation[...]) == plain)
        // Escapes and enums with payloads go to JSONDecoder.
        #expect(throws: StreamingJSONDecoder.Unsupported.self) {
            _ = try StreamingJSONDecoder.decode(String.self, from: Array(#""a\nb""#.utf8)[...])
        }
        #expect(throws: StreamingJSONDecoder.Unsupported.self) {
            _ = try StreamingJSONDecoder.decode(Shape.self, from: Array(try JSONEncoder().encode(Shape.square(2)))[...])
        }
        #expect(throws: StreamingJSONDecoder.Unsupported.self) {
            _ = try StreamingJSONDecoder.decode(Plain.self, from: Array(#"{"id": 1"#.utf8)[...])
        }
    }

    /// One coder shared by threads at once (it is `Sendable`: a pool's parent and the user's
    /// own threads may hold the same one), although it keeps state from one call to the next
    /// (its decoding session): every value comes back whole on every thread.
    @Test(.timeLimit(.minutes(1))) func oneCoderSharedByFourThreadsAtOnceKeepsEveryValueWhole() throws {
        let coder = JSONProcessCoder()
        let counts = Mutex((done: 0, wrong: 0, rounds: 0))
        for thread in 0..<4 {
            OSThread.detach {
                var wrong = 0, rounds = 0
                for round in 0..<1500 {
                    var value = Everything()
                    value.small = Int8(truncatingIfNeeded: thread &* 31 &+ round)
                    value.list = [thread, round]
                    value.byName = ["thread": thread, "round": round]
                    value.inner = Inner(name: "t\(thread)r\(round)", weight: round % 2 == 0 ? nil : Double(round))
                    let inner = Inner(name: String(repeating: "x", count: round % 40), weight: Double(thread))
                    do {
                        if try coder.decode(Everything.self, from: coder.encode(value)[...]) != value { wrong += 1 }
                        var buffer: [UInt8] = []
                        let ranges = try coder.encode(each: [inner, Inner(name: "\(round)", weight: nil), inner], into: &buffer)
                        if try ranges.map({ try coder.decode(Inner.self, from: buffer[$0]) }) != [inner, Inner(name: "\(round)", weight: nil), inner] {
                            wrong += 1
                        }
                    } catch {
                        wrong += 1
                    }
                    rounds += 1
                }
                counts.withLock { $0.done += 1; $0.wrong += wrong; $0.rounds += rounds }
            }
        }
        while counts.withLock({ $0.done }) < 4 { usleep(10_000) }
        let (_, wrong, rounds) = counts.withLock { $0 }
        #expect(rounds == 6000)
        #expect(wrong == 0)
    }
}

/// What a pool's maps give back, value for value, against Foundation's own round trip
/// (`JSONDecoder().decode(JSONEncoder().encode(value))`): the values every chunk size and
/// the chunk frames must carry as a user's Codable types expect. Found from outside before:
/// -0.0 arrived as +0.0 (53ee987).
@Suite("JSONProcessCoder through a pool", .heavy)
struct ProcessCoderPoolTests {
    /// JSON text to compare by: sorted keys, non-finite numbers spelled out, -0 kept.
    private static func canonical<Value: Encodable>(_ value: Value) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "+inf", negativeInfinity: "-inf", nan: "nan")
        return (try? encoder.encode(value)).map { String(decoding: $0, as: UTF8.self) } ?? "<unencodable>"
    }

    /// Sends `values` through `mapResults` at several chunk sizes and the first few through
    /// `run`, and returns each difference from Foundation's round trip. A value Foundation
    /// cannot encode (NaN) must fail alone with a typed error.
    @Hub
    private static func differences<Value: Codable & Sendable>(
        _ values: [Value], pool: ProcessPool, chunkSizes: [Int?] = [nil, 1, 7]
    ) async throws -> [String] {
        var runs: [(label: String, results: [Result<Value, any Error>])] = []
        for chunkSize in chunkSizes {
            var results: [Result<Value, any Error>] = []
            for try await result in pool.mapResults(values.map(Echo.init), chunkSize: chunkSize) { results.append(result) }
            runs.append(("chunk \(chunkSize.map(String.init) ?? "auto")", results))
        }
        var ran: [Result<Value, any Error>] = []
        for value in values.prefix(8) {
            do { ran.append(.success(try await pool.run(Echo(value), timeout: 30))) } catch { ran.append(.failure(error)) }
        }
        runs.append(("run", ran))
        let compared = runs
        // Compared off the hub: Foundation's round trips of big values would block it.
        return try await offloadBlocking {
            let expected = values.map { value in Result { try JSONDecoder().decode(Value.self, from: JSONEncoder().encode(value)) } }
            var found: [String] = []
            for (label, results) in compared {
                if results.count != values.count && label != "run" { found.append("\(label): \(results.count) results of \(values.count)") }
                for (index, result) in results.enumerated() {
                    switch (expected[index], result) {
                    case (.success(let want), .success(let got)) where canonical(want) == canonical(got):
                        break
                    case (.failure, .failure(let error)) where error is ProcessPoolError || error is JobFailed:
                        break
                    case (let want, let got):
                        found.append("\(label) #\(index) \(canonical(values[index]).prefix(80)): "
                                     + "Foundation \(want.map(canonical)), the pool \(got.map(canonical))")
                    }
                }
            }
            return found
        }
    }

    @Test func trickyValuesComeBackAsFoundationsRoundTripGivesThem() async throws {
        let left = try await onHub(seconds: 120) {
            try await withTestPool { (pool: ProcessPool) async throws in
                var found: [String] = []
                found += try await Self.differences([0, 1, -1, 10, Int.max, Int.min, 999_999_999_999_999_999, 1_000_000_000_000_000_000], pool: pool)
                found += try await Self.differences([Int8.min, -1, 0, Int8.max], pool: pool)
                found += try await Self.differences([0, UInt64.max, 1 << 63, (1 << 63) - 1], pool: pool)
                found += try await Self.differences([0, -0.0, 0.1, -1.5, .pi, 1e16, 1e21, 1e-7, .leastNonzeroMagnitude, .greatestFiniteMagnitude,
                                                     9.223372036854776e18, -9.223372036854776e18, 1.8446744073709552e19,
                                                     .nan, .infinity, 12_345.678], pool: pool)
                found += try await Self.differences([0, -0.0, 0.1, 1.1, 3.4028235e38, .leastNonzeroMagnitude, 16_777_216, 9.223372e18] as [Float], pool: pool)
                found += try await Self.differences(["", "\u{0}", "a\u{0}b", "\"\\/", "\n\r\t\u{8}\u{c}\u{1}\u{1f}\u{7f}", "é", "e\u{301}",
                                                     "😀👩‍👩‍👧‍👦", "\u{2028}\u{2029}\u{FEFF}\u{FFFF}\u{10FFFF}", "123", "null",
                                                     String(repeating: "é\"\\😀\n", count: 5_000)], pool: pool)
                found += try await Self.differences([true, false], pool: pool)
                found += try await Self.differences([[], [0], [255, 0, 1], Array("\"null\"".utf8), (0..<70_000).map { UInt8(truncatingIfNeeded: $0) }] as [[UInt8]], pool: pool)
                found += try await Self.differences([nil, [], [1, 2], Array("null".utf8)] as [[UInt8]?], pool: pool)
                found += try await Self.differences([nil, .some(nil), .some(.some(3))] as [Int??], pool: pool)
                found += try await Self.differences([[:], [1: "a", -5: "b", Int.max: "c"]] as [[Int: String]], pool: pool)
                found += try await Self.differences([Date(timeIntervalSinceReferenceDate: 0), Date(timeIntervalSince1970: 1_700_000_000.123456), .distantFuture], pool: pool)
                found += try await Self.differences([Data(), Data([0, 1, 2, 255])], pool: pool)
                found += try await Self.differences([Decimal(string: "3.14159265358979323846")!, Decimal(string: "-1e-20")!], pool: pool)
                let record = ParityRecord(id: -7, name: "n\u{0}é", score: -0.0, bytes: [1, 255], tags: ["": 0, "a\"b": 1], odd: true)
                found += try await Self.differences([record, ParityRecord(id: 0, name: "", score: nil, bytes: [], tags: [:], odd: false)], pool: pool)
                found += try await Self.differences([.circle(radius: -0.0), .rect(1, 2), .none, .labelled(name: "l", nil),
                                                     .labelled(name: "m", record)] as [ParityShape], pool: pool)
                #expect(found.isEmpty, "\(found.count) differ: \(found.prefix(5))")
            }
        }
        #expect(left.isEmpty)
    }

    /// Whether Foundation's round trip takes every one of `values`: a shape the check relies
    /// on Foundation to carry must not pass only because both sides fail.
    private static func foundationCarries<Value: Codable>(_ values: [Value]) -> Bool {
        values.allSatisfy { (try? JSONDecoder().decode(Value.self, from: JSONEncoder().encode($0))) != nil }
    }

    /// Shapes in which a keyed container's Key type is open several times at once, kept after
    /// encode(to:) returned, shared along a class hierarchy, made at run time, present in some
    /// items only, or open when encode(to:)/init(from:) throws — in chunks of several items,
    /// where an encoder or decoder that keeps containers or keys per Key type would mix them up.
    @Test func keyedContainersOfOneKeyTypeComeBackAsFoundationsRoundTripGivesThem() async throws {
        let trees = (0..<30).map { ParityTree(depth: $0 % 5, seed: $0) }
        let expressions = (0..<40).map(ParityExpr.make) + [.add(.add(.num(1), .neg(.add(.unit, .unit))), .call(name: "", args: [.unit], note: ""))]
        let twoAlive = (0..<20).map { TwoContainersAlive(a: $0, b: "b\($0)", c: Array(0..<($0 % 4))) }
        let nested = (0..<20).map { NestedOfOwnKey(x: $0, y: -3 * $0, z: "z\($0)\u{0}") }
        let kept = (0..<20).map { KeptContainer(p: $0, q: "q\($0)") }
        let cars = (0..<20).map { ParityRaceCar(turbo: $0 % 2 == 0 ? nil : Double($0) / 4, brand: "r\($0)", wheels: $0 % 5) }
        let dynamic = (0..<30).map { index in
            DynamicKeys(fields: ((0..<(index % 6)).map { "f\(index)_\($0)" } + ["shared", index % 3 == 0 ? "\u{0}é" : "x"]).enumerated().map { ($1, $0 - index) },
                        inner: index % 4 == 0 ? ["in\(index)": DynamicKeys(fields: [("y\(index)", index), ("shared", 0)], inner: [:])] : [:])
        }
        let sparse = (0..<32).map(SparseKeys.init)
        let throwing = (0..<42).map { index in
            ThrowsMidContainer(a: index, boom: index % 7 == 3 ? 1 : index % 7 == 5 ? 2 : 0,
                               kids: index % 3 == 0 ? [] : [ThrowsMidContainer(a: -index, boom: 0),
                                                            ThrowsMidContainer(a: 100 * index, boom: index % 11 == 4 ? 1 : index % 11 == 8 ? 2 : 0,
                                                                               kids: [ThrowsMidContainer(a: 1, boom: 0)])])
        }
        #expect(Self.foundationCarries(trees) && Self.foundationCarries(expressions) && Self.foundationCarries(twoAlive)
                && Self.foundationCarries(nested) && Self.foundationCarries(kept) && Self.foundationCarries(cars)
                && Self.foundationCarries(dynamic) && Self.foundationCarries(sparse) && !Self.foundationCarries(throwing))
        let left = try await onHub(seconds: 120) {
            try await withTestPool { (pool: ProcessPool) async throws in
                let chunkSizes: [Int?] = [nil, 2, 7]
                var found: [String] = []
                found += try await Self.differences(trees, pool: pool, chunkSizes: chunkSizes)
                found += try await Self.differences(expressions, pool: pool, chunkSizes: chunkSizes)
                found += try await Self.differences(twoAlive, pool: pool, chunkSizes: chunkSizes)
                found += try await Self.differences(nested, pool: pool, chunkSizes: chunkSizes)
                found += try await Self.differences(kept, pool: pool, chunkSizes: chunkSizes)
                found += try await Self.differences(cars, pool: pool, chunkSizes: chunkSizes)
                found += try await Self.differences(dynamic, pool: pool, chunkSizes: chunkSizes)
                found += try await Self.differences(sparse, pool: pool, chunkSizes: chunkSizes)
                found += try await Self.differences(throwing, pool: pool, chunkSizes: chunkSizes)
                #expect(found.isEmpty, "\(found.count) differ: \(found.prefix(5))")
            }
        }
        #expect(left.isEmpty)
    }

    @Test func seededRandomValuesComeBackAsFoundationsRoundTripGivesThem() async throws {
        let seed = testSeed()
        var generator = SplitMix64(seed: seed)
        var doubles: [Double] = []
        for index in 0..<2_000 {
            switch index % 3 {
            case 0:
                let any = Double(bitPattern: generator.next())   // every exponent, subnormals included
                doubles.append(any.isFinite ? any : -0.0)
            case 1: doubles.append(Double(Int64(bitPattern: generator.next()) >> (generator.next() % 64)))
            default: doubles.append(Double(Int(generator.next() % 2_000_000) - 1_000_000) / 1000)
            }
        }
        let integers = (0..<2_000).map { _ in Int(truncatingIfNeeded: generator.next() >> (generator.next() % 64)) * (generator.next() % 2 == 0 ? 1 : -1) }
        let strings: [String] = (0..<2_000).map { _ in
            var text = ""
            for _ in 0..<Int(generator.next() % 24) {
                let value: UInt32 = switch generator.next() % 6 {
                case 0, 1: UInt32(0x20 + generator.next() % 0x5F)
                case 2: UInt32(generator.next() % 0x20)
                case 3: [0x22, 0x5C, 0x2F, 0x7F, 0x2028][Int(generator.next() % 5)]
                case 4: UInt32(0x80 + generator.next() % 0xD000)
                default: UInt32(0x10000 + generator.next() % 0xFFFFF)
                }
                if let scalar = Unicode.Scalar(value) { text.unicodeScalars.append(scalar) }
            }
            return text
        }
        let records = (0..<1_000).map { index in
            ParityRecord(id: integers[index], name: strings[index], score: index % 3 == 0 ? nil : doubles[index],
                         bytes: Array(strings[index].utf8.prefix(5)), tags: [strings[index + 1000]: integers[index + 1000]], odd: index % 2 == 0)
        }
        let left = try await onHub(seconds: 120) {
            try await withTestPool { (pool: ProcessPool) async throws in
                var found: [String] = []
                found += try await Self.differences(doubles, pool: pool, chunkSizes: [nil, 13])
                found += try await Self.differences(integers, pool: pool, chunkSizes: [nil, 13])
                found += try await Self.differences(strings, pool: pool, chunkSizes: [nil, 13])
                found += try await Self.differences(records, pool: pool, chunkSizes: [nil, 13])
                #expect(found.isEmpty, "seed \(seed): \(found.count) differ: \(found.prefix(5))")
            }
        }
        #expect(left.isEmpty)
    }
}

