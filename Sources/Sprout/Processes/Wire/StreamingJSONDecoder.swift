import FoundationEssentials
import Glibc
import Synchronization

/// Reads JSON written the way ``StreamingJSONEncoder`` and `JSONEncoder` write it, straight
/// from the bytes: a worker decodes every job it runs, so this is on the hot path of a map
/// over many small jobs.
///
/// It knows objects, arrays, numbers, booleans, `null` and strings without escapes. Any
/// other input, and types `JSONDecoder` treats specially (`Data`, `Date`, `URL`, `Decimal`),
/// make ``decode(_:from:session:)`` throw; the caller then asks `JSONDecoder`, which decides — and
/// gives the real error if there is one.
package enum StreamingJSONDecoder {
    /// Input the fast path leaves to `JSONDecoder`.
    package struct Unsupported: Error {}

    /// What one coder keeps from one decode to the next: the members of the document's
    /// top-level object, found while it is validated, and the keyed container last handed
    /// out for it. A map's jobs are decoded one after another, each a small object of the
    /// same type: reusing that container spares each job a container allocated in a box and
    /// two generic-metadata lookups, and a second walk over its members.
    ///
    /// A value may keep a container (or its decoder) and read it after its decode returned,
    /// as `JSONDecoder`'s allow: every reader handed out holds the document's bytes
    /// (``DocumentBytes``), and when a decode ends with one of them still held elsewhere —
    /// the kept container's box or the bytes are not uniquely referenced — the session
    /// leaves them to their holders and takes fresh ones for the next document. Without
    /// that, a kept container read the next document's fields, or freed bytes.
    ///
    /// One decode at a time uses it (a compare-exchange decides): a decode that finds it in
    /// use — another thread's, or one nested in a type's `init(from:)` — goes without.
    package final class Session: @unchecked Sendable {
        private let busy = Atomic<Bool>(false)
        /// Only used while `busy` is held.
        @exclusivity(unchecked) fileprivate var document = RootDocument()

        /// A session no decode has used yet.
        package init() {}

        deinit {
            // The kept container refers back to its document.
            document.root.pointee.container = nil
        }

        /// Takes the session for one decode, or for a run of ``decodeHeld(_:from:)`` calls (a
        /// map's chunk of jobs), which then pay for taking it once; false when it is in use.
        /// The caller gives it back with ``give()``.
        package func take() -> Bool {
            busy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged
        }

        /// Gives back the session ``take()`` took.
        package func give() {
            busy.store(false, ordering: .releasing)
        }

        /// Decodes a `Value` — not a type ``JSONScalarTypes`` knows — from `bytes` with the
        /// session, which the caller holds (``take()``). Each decode settles on its own: a
        /// value that keeps a reader gets its own copy of its bytes, as with
        /// ``StreamingJSONDecoder/decode(_:from:session:)``.
        ///
        /// - Throws: ``Unsupported`` for anything it does not handle.
        package func decodeHeld<Value: Decodable>(_ type: Value.Type, from bytes: ArraySlice<UInt8>) throws -> Value {
            guard bytes.count <= Int(UInt32.max) else { throw Unsupported() }
            return try bytes.withUnsafeBufferPointer { try decodeSettling(type, text: JSONText(bytes: $0)) }
        }

        /// ``decode(_:text:)``, then ``settle()`` whether it returned or threw.
        fileprivate func decodeSettling<Value: Decodable>(_ type: Value.Type, text: JSONText) throws -> Value {
            let value: Value
            do {
                value = try decode(type, text: text)
            } catch {
                settle()
                throw error
            }
            settle()
            return value
        }

        /// Decodes the document `text` with the session's reused state.
        fileprivate func decode<Value: Decodable>(_ type: Value.Type, text: JSONText) throws -> Value {
            // Unowned: the session holds both until ``settle()``, which alone replaces them.
            unowned(unsafe) let document = self.document
            let root = document.root
            unowned(unsafe) let bytes = root.pointee.bytes
            bytes.text = text
            bytes.decoding = true
            root.pointee.text = text
            root.pointee.members.removeAll()
            root.pointee.distinctKeys = nil
            root.pointee.range = try text.validate(recordingMembersIn: &root.pointee.members)
            bytes.range = root.pointee.range
            return try Value(from: RootDecoder(document: document, bytes: bytes))
        }

        /// Ends a decode (after ``decode(_:text:)`` returned or threw, while its bytes are
        /// still the caller's): what a value kept past its decode gets a copy of the bytes,
        /// and is left to it. Nothing is copied or counted for a decode that kept nothing.
        fileprivate func settle() {
            let root = document.root
            root.pointee.bytes.decoding = false
            if let kept = root.pointee.keptStorage, keptContainerHasCopies(at: kept) {
                // The top-level container was kept: its reader reads this RootObject.
                root.pointee.bytes.ownText()
                root.pointee.text = root.pointee.bytes.text
                root.pointee.container = nil
                root.pointee.keptStorage = nil
                root.pointee.containerKey = nil
                document = RootDocument()
            } else if !isKnownUniquelyReferenced(&root.pointee.bytes) {
                // A nested reader (or the decoder) was kept: it reads these bytes.
                root.pointee.bytes.ownText()
                root.pointee.bytes = DocumentBytes()
            }
        }
    }

    /// Decodes a `Value` from `bytes`, with what `session` (if any) kept from earlier decodes.
    ///
    /// - Throws: ``Unsupported`` for anything it does not handle.
    package static func decode<Value: Decodable>(_ type: Value.Type, from bytes: ArraySlice<UInt8>,
                                                 session: Session? = nil) throws -> Value {
        // Offsets are kept in 32 bits (RangeDecoder, ObjectMembers).
        guard bytes.count <= Int(UInt32.max) else { throw Unsupported() }
        // Not withContiguousStorageIfAvailable: its Optional<Value> costs a metadata lookup
        // per call in this unspecialized code.
        return try bytes.withUnsafeBufferPointer { buffer in
            let text = JSONText(bytes: buffer)
            // Numbers and strings have no members to keep.
            let scalar = JSONScalarTypes.kind(of: type) != nil
            if let session, !scalar, session.take() {
                defer { session.give() }
                return try session.decodeSettling(type, text: text)
            }
            // The whole document, also the members no type asks for: JSONDecoder refuses a
            // document with any bad part, so the fast path must not accept one.
            let range = try text.validate(recordingMembersIn: nil)
            if scalar { return try text.scalar(type, range) }
            var document = DocumentBytes(text: text, range: range)
            document.decoding = true
            defer {
                document.decoding = false
                // A reader kept past the decode reads a copy: the caller's bytes may go.
                if !isKnownUniquelyReferenced(&document) { document.ownText() }
            }
            return try document.decode(type, from: range)
        }
    }
}

extension StreamingJSONDecoder {
    /// A document that is one JSON integer and nothing else, as `JSONDecoder` reads it into
    /// an `Int`, or `nil` where it may read it otherwise or not at all (the decoders then
    /// decide). The readers (and grammar checks) a document's scalars go through, without a
    /// decode's set-up: ``JSONProcessCoder`` reads plain outputs with these.
    static func integer(_ bytes: UnsafeRawBufferPointer) -> Int? {
        try? JSONText(bytes: bytes.assumingMemoryBound(to: UInt8.self)).integer(Int.self, 0..<bytes.count)
    }

    /// A document that is one JSON string with nothing to unescape, of valid UTF-8, and
    /// nothing else, as `JSONDecoder` reads it into a `String`, or `nil` (see ``integer(_:)``).
    static func string(_ bytes: UnsafeRawBufferPointer) -> String? {
        let text = JSONText(bytes: bytes.assumingMemoryBound(to: UInt8.self))
        guard !bytes.isEmpty, bytes[0] == 34, let end = try? text.stringEnd(0), end == bytes.count else { return nil }
        return try? text.string(0..<end)
    }

    /// A document that is `true` or `false` exactly, as `JSONDecoder` reads it into a
    /// `Bool`, or `nil` (see ``integer(_:)``).
    static func bool(_ bytes: UnsafeRawBufferPointer) -> Bool? {
        let text = JSONText(bytes: bytes.assumingMemoryBound(to: UInt8.self))
        guard !bytes.isEmpty, let end = try? text.literalEnd(0, bytes[0] == 116 ? "true" : "false"), end == bytes.count else { return nil }
        return try? text.bool(0..<end)
    }
}

/// The bytes a decode reads, shared by every reader the decoder hands out: while the decode
/// runs, the caller's (`text` points into them); when a reader outlives its decode, a copy
/// of its own (``ownText()``), so a container kept past its decode still reads its own
/// document. A ``StreamingJSONDecoder/Session`` reuses one from document to document while
/// no reader outlives its decode.
private final class DocumentBytes {
    // Unchecked: read by every field a reader decodes; one decode at a time writes them.
    @exclusivity(unchecked) var text: JSONText
    /// Where the document's value lies in `text`.
    @exclusivity(unchecked) var range: Range<Int>
    /// Whether its decode is running (for a session's, also: its RootObject describes these
    /// bytes). A reader used after its decode returned reads what the fast path does not
    /// through `JSONDecoder` (``foundationDecoder(_:)``): no decode is left to fall back then.
    @exclusivity(unchecked) var decoding = false
    /// The copy `text` points into once ``ownText()`` made it.
    private var owned: UnsafeMutableBufferPointer<UInt8>?

    init(text: JSONText = JSONText(bytes: UnsafeBufferPointer(start: nil, count: 0)), range: Range<Int> = 0..<0) {
        self.text = text
        self.range = range
    }

    deinit {
        owned?.deallocate()
    }

    /// Points `text` at a copy of its bytes, made once: called at the end of a decode whose
    /// readers outlive it, before the caller's bytes may go.
    func ownText() {
        guard owned == nil else { return }
        let copy = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: max(text.bytes.count, 1))
        _ = copy.initialize(fromContentsOf: text.bytes)
        owned = copy
        text = JSONText(bytes: UnsafeBufferPointer(rebasing: copy[..<text.bytes.count]))
    }

    /// `JSONDecoder`'s decoder for the value in `range` (its containers stay valid when kept).
    func foundationDecoder(_ range: Range<Int>) throws -> any Decoder {
        try JSONDecoder().decode(FoundationDecoder.self, from: Data(text.bytes[range])).decoder
    }

    /// The `T` in `range`.
    func decode<T: Decodable>(_ type: T.Type, from range: Range<Int>) throws -> T {
        if JSONScalarTypes.kind(of: type) == nil { return try T(from: RangeDecoder(document: self, range: range)) }
        return try text.scalar(type, range)
    }
}

/// The decoder `JSONDecoder` hands a value, kept (``DocumentBytes/foundationDecoder(_:)``).
private struct FoundationDecoder: Decodable {
    let decoder: any Decoder
    init(from decoder: any Decoder) throws { self.decoder = decoder }
}

/// A session's ``RootObject``, in memory of its own: the session's kept container reads it
/// through a pointer (no exclusivity checks), and holds this owner so that, kept past its
/// decode, it reads a RootObject the session no longer uses.
private final class RootDocument {
    let root = UnsafeMutablePointer<RootObject>.allocate(capacity: 1)

    init() {
        root.initialize(to: RootObject())
    }

    deinit {
        root.deinitialize(count: 1)
        root.deallocate()
    }
}

/// The document's top-level value while a ``StreamingJSONDecoder/Session`` is used: its
/// members when it is an object, and the keyed container last made for it.
private struct RootObject {
    /// A copy of `bytes.text`, one load away for the kept container.
    var text = JSONText(bytes: UnsafeBufferPointer(start: nil, count: 0))
    var bytes = DocumentBytes()
    var range = 0..<0
    var members = ObjectMembers()
    /// The `Key` type of `container` (a `KeptContainer<KeyedDecodingContainer<Key>>`). Its
    /// reader reads this `RootObject`, so the same container serves every document while
    /// no copy of it outlives its decode (``StreamingJSONDecoder/Session``).
    var containerKey: ObjectIdentifier?
    var container: AnyObject?
    /// `container`'s storage, tested at a decode's end without retaining it.
    var keptStorage: UnsafeMutableRawPointer?
    /// Whether no two of `members` have the same key; `nil` until asked.
    var distinctKeys: Bool?
    /// Where keys asked for were found in earlier documents: a map's documents are one type
    /// written the same way, so its keys are mostly where they were.
    var guesses: [KeyGuess] = []

    /// The most keys `guesses` holds, and the most members whose keys are checked to be distinct.
    static let guessLimit = 8

    /// The value of the member named `name`; a key given twice is left to JSONDecoder.
    ///
    /// Found first where it was last time: a synthesized key's `stringValue` is the same
    /// literal every time, and equal bits are equal bytes, so comparing the `String`'s bits
    /// and then the member's key with the bytes kept spares reading the name's text.
    mutating func value(of name: String) throws -> Range<Int>? {
        let bits = unsafeBitCast(name, to: KeyGuess.Bits.self)
        // By index: a closure over the elements would copy (retain and release) each entry.
        var slot: Int?
        for candidate in guesses.indices where guesses[candidate].bits == bits {
            slot = candidate
            break
        }
        if let slot, case let index = guesses[slot].index, index < members.count, members.count == 1 || hasDistinctKeys() {
            let key = members[index].key
            let same = guesses[slot].bytes.withUnsafeBufferPointer { bytes in
                key.count == bytes.count && (bytes.isEmpty || memcmp(text.bytes.baseAddress! + key.lowerBound, bytes.baseAddress!, bytes.count) == 0)
            }
            if same { return members[index].value }
        }
        let found = try members.index(of: name, in: text)
        if let found {
            if let slot {
                guesses[slot].index = found
            } else if guesses.count < Self.guessLimit {
                guesses.append(KeyGuess(bits: bits, name: name, bytes: Array(text.bytes[members[found].key]), index: found))
            }
        }
        return found.map { members[$0].value }
    }

    /// Whether no key is given twice among the members (checked once per document; an
    /// object with many members is not checked and its keys are looked up in full).
    private mutating func hasDistinctKeys() -> Bool {
        if let distinctKeys { return distinctKeys }
        var distinct = members.count <= Self.guessLimit
        if distinct && members.count > 1 {
            outer: for first in 0..<members.count {
                let a = members[first].key
                for second in (first + 1)..<members.count {
                    let b = members[second].key
                    if a.count == b.count && (a.isEmpty || memcmp(text.bytes.baseAddress! + a.lowerBound, text.bytes.baseAddress! + b.lowerBound, a.count) == 0) {
                        distinct = false
                        break outer
                    }
                }
            }
        }
        distinctKeys = distinct
        return distinct
    }
}

/// Where a key was found in the last document that had it.
private struct KeyGuess {
    typealias Bits = (UInt64, UInt64)
    let bits: Bits
    /// Kept so that no other `String` can have `bits` while this guess is held.
    let name: String
    /// The key's UTF-8 bytes.
    let bytes: [UInt8]
    var index: Int
}

/// The `Decoder` the top-level value's `init(from:)` sees when a session is used. Kept past
/// its decode, it reads its own bytes as any nested value's decoder does.
private struct RootDecoder: Decoder {
    /// Read only while `bytes.decoding`: the session holds it until then. Unowned, so that
    /// the decoder is one reference to copy.
    unowned(unsafe) let document: RootDocument
    let bytes: DocumentBytes

    var codingPath: [any CodingKey] { [] }
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        guard bytes.decoding else { return try RangeDecoder(document: bytes, range: bytes.range).container(keyedBy: type) }
        let root = document.root
        // Its members were only recorded for an object (RangeDecoder refuses others the same way).
        guard root.pointee.text.bytes[root.pointee.range.lowerBound] == 123 else { throw StreamingJSONDecoder.Unsupported() }
        if root.pointee.containerKey == ObjectIdentifier(Key.self), let kept = root.pointee.container {
            return unsafeDowncast(kept, to: KeptContainer<KeyedDecodingContainer<Key>>.self).copy()
        }
        return keep(Key.self).copy()
    }

    /// Makes the container `container(keyedBy:)` hands out for `Key` and keeps it. Apart, so
    /// that its temporary, sized by the metadata, costs the kept container's path nothing.
    @inline(never)
    private func keep<Key: CodingKey>(_ type: Key.Type) -> KeptContainer<KeyedDecodingContainer<Key>> {
        let kept = KeptContainer(KeyedDecodingContainer(ObjectReader<Key>(root: document)))
        document.root.pointee.containerKey = ObjectIdentifier(Key.self)
        document.root.pointee.container = kept
        document.root.pointee.keptStorage = kept.storage
        return kept
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        try RangeDecoder(document: bytes, range: bytes.range).unkeyedContainer()
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer {
        try RangeDecoder(document: bytes, range: bytes.range).singleValueContainer()
    }
}

/// The bytes being decoded, valid while ``StreamingJSONDecoder/decode(_:from:session:)`` runs or
/// their ``DocumentBytes`` lives.
private struct JSONText {
    let bytes: UnsafeBufferPointer<UInt8>

    func skipSpace(_ start: Int) -> Int {
        var index = start
        while index < bytes.count, isSpace(bytes[index]) { index += 1 }
        return index
    }

    /// Whether `byte` is JSON white space.
    func isSpace(_ byte: UInt8) -> Bool {
        byte == 32 || byte == 10 || byte == 13 || byte == 9
    }

    /// Checks that the bytes are one JSON value (RFC 8259) that this fast path can read:
    /// exact literals, numbers by the grammar, strings of valid UTF-8 without control
    /// bytes or escapes, at most 512 levels deep. One pass, no recursion. Returns where the
    /// value lies (without the spaces around it); when it is an object, appends its members
    /// to `members` (if given) on the way.
    func validate(recordingMembersIn members: UnsafeMutablePointer<ObjectMembers>?) throws -> Range<Int> {
        // The open containers' closing bytes, on the stack: a job is validated per item.
        try withUnsafeTemporaryAllocation(of: UInt8.self, capacity: Self.maxDepth) { try validate(open: $0, members: members) }
    }

    /// The deepest nesting the fast path reads.
    private static let maxDepth = 512

    private func validate(open: UnsafeMutableBufferPointer<UInt8>, members: UnsafeMutablePointer<ObjectMembers>?) throws -> Range<Int> {
        var depth = 0
        let start = skipSpace(0)
        var index = start
        // The top-level object's member being read: its key, and where its value starts.
        var key = 0..<0
        var valueStart = 0
        value: while true {
            guard index < bytes.count else { throw StreamingJSONDecoder.Unsupported() }
            switch bytes[index] {
            case 123, 91:
                let close: UInt8 = bytes[index] == 123 ? 125 : 93
                index = skipSpace(index + 1)
                if index < bytes.count && bytes[index] == close {
                    index += 1
                } else {
                    guard depth < Self.maxDepth else { throw StreamingJSONDecoder.Unsupported() }
                    open[depth] = close
                    depth += 1
                    if close == 125 { index = try memberKey(index, depth: depth, key: &key, valueStart: &valueStart) }
                    continue value
                }
            case 34: index = try stringEnd(index)
            case 116: index = try literalEnd(index, "true")
            case 102: index = try literalEnd(index, "false")
            case 110: index = try literalEnd(index, "null")
            default: index = try numberEnd(index)
            }
            // After a value: a comma and the next one, or the end of its container.
            while true {
                if depth == 1, let members, open[0] == 125 {
                    members.pointee.append(key: key, value: valueStart..<index)
                }
                guard depth > 0 else { break value }
                index = skipSpace(index)
                let close = open[depth - 1]
                guard index < bytes.count else { throw StreamingJSONDecoder.Unsupported() }
                if bytes[index] == 44 {
                    index = skipSpace(index + 1)
                    if close == 125 { index = try memberKey(index, depth: depth, key: &key, valueStart: &valueStart) }
                    continue value
                }
                guard bytes[index] == close else { throw StreamingJSONDecoder.Unsupported() }
                depth -= 1
                index += 1
            }
        }
        guard skipSpace(index) == bytes.count else { throw StreamingJSONDecoder.Unsupported() }
        return start..<index
    }

    /// Past an object member's key and colon, at its value. For a member of the top-level
    /// object (`depth` 1; not one nested in it), sets `key` to where the key's text lies,
    /// without its quotes, and `valueStart` to where its value starts.
    private func memberKey(_ start: Int, depth: Int, key: inout Range<Int>, valueStart: inout Int) throws -> Int {
        guard start < bytes.count, bytes[start] == 34 else { throw StreamingJSONDecoder.Unsupported() }
        let keyEnd = try stringEnd(start)
        var index = skipSpace(keyEnd)
        guard index < bytes.count, bytes[index] == 58 else { throw StreamingJSONDecoder.Unsupported() }
        index = skipSpace(index + 1)
        if depth == 1 {
            key = (start + 1)..<(keyEnd - 1)
            valueStart = index
        }
        return index
    }

    /// Past the string starting at `start`: no control byte, no escape, valid UTF-8.
    fileprivate func stringEnd(_ start: Int) throws -> Int {
        var index = start + 1
        var ascii = true
        while index < bytes.count {
            let byte = bytes[index]
            if byte == 34 {
                if !ascii && String(validating: UnsafeBufferPointer(rebasing: bytes[(start + 1)..<index]), as: UTF8.self) == nil {
                    throw StreamingJSONDecoder.Unsupported()
                }
                return index + 1
            }
            if byte < 32 || byte == 92 { throw StreamingJSONDecoder.Unsupported() }
            if byte >= 128 { ascii = false }
            index += 1
        }
        throw StreamingJSONDecoder.Unsupported()
    }

    fileprivate func literalEnd(_ start: Int, _ literal: StaticString) throws -> Int {
        let count = literal.utf8CodeUnitCount
        guard start + count <= bytes.count else { throw StreamingJSONDecoder.Unsupported() }
        for offset in 0..<count where bytes[start + offset] != literal.utf8Start[offset] {
            throw StreamingJSONDecoder.Unsupported()
        }
        return start + count
    }

    /// Past the number starting at `start`: `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`.
    private func numberEnd(_ start: Int) throws -> Int {
        var index = start
        func digits() -> Int {
            let first = index
            while index < bytes.count, bytes[index] >= 48, bytes[index] <= 57 { index += 1 }
            return index - first
        }
        if index < bytes.count, bytes[index] == 45 { index += 1 }
        let whole = index
        guard digits() > 0, bytes[whole] != 48 || index == whole + 1 else { throw StreamingJSONDecoder.Unsupported() }
        if index < bytes.count, bytes[index] == 46 {
            index += 1
            guard digits() > 0 else { throw StreamingJSONDecoder.Unsupported() }
        }
        if index < bytes.count, bytes[index] == 101 || bytes[index] == 69 {
            index += 1
            if index < bytes.count, bytes[index] == 43 || bytes[index] == 45 { index += 1 }
            guard digits() > 0 else { throw StreamingJSONDecoder.Unsupported() }
        }
        return index
    }

    /// Where the value starting at `start` ends.
    func valueEnd(_ start: Int) throws -> Int {
        guard start < bytes.count else { throw StreamingJSONDecoder.Unsupported() }
        switch bytes[start] {
        case 34:
            var index = start + 1
            while index < bytes.count {
                if bytes[index] == 92 { throw StreamingJSONDecoder.Unsupported() }
                if bytes[index] == 34 { return index + 1 }
                index += 1
            }
            throw StreamingJSONDecoder.Unsupported()
        case 123, 91:
            var depth = 0
            var index = start
            while index < bytes.count {
                switch bytes[index] {
                case 123, 91: depth += 1
                case 125, 93:
                    depth -= 1
                    if depth == 0 { return index + 1 }
                case 34: index = try valueEnd(index) - 1
                default: break
                }
                index += 1
            }
            throw StreamingJSONDecoder.Unsupported()
        default:
            var index = start
            while index < bytes.count {
                switch bytes[index] {
                case 44, 125, 93, 32, 10, 13, 9: return index
                default: index += 1
                }
            }
            return index
        }
    }

    /// Hands each member of the object (`keyed`) or element of the array in `range` to
    /// `visit`, in order: the key's bytes without quotes (empty for an array) and the value's.
    func items(_ range: Range<Int>, keyed: Bool, _ visit: (_ key: Range<Int>, _ value: Range<Int>) -> Void) throws {
        guard bytes[range.lowerBound] == (keyed ? 123 : 91) else { throw StreamingJSONDecoder.Unsupported() }
        var index = skipSpace(range.lowerBound + 1)
        if index < range.upperBound - 1 || bytes[index] != (keyed ? 125 : 93) {
            while true {
                var key = index..<index
                if keyed {
                    let keyEnd = try valueEnd(index)
                    guard bytes[index] == 34 else { throw StreamingJSONDecoder.Unsupported() }
                    key = (index + 1)..<(keyEnd - 1)
                    index = skipSpace(keyEnd)
                    guard index < range.upperBound, bytes[index] == 58 else { throw StreamingJSONDecoder.Unsupported() }
                    index = skipSpace(index + 1)
                }
                let end = try valueEnd(index)
                visit(key, index..<end)
                index = skipSpace(end)
                guard index < range.upperBound else { throw StreamingJSONDecoder.Unsupported() }
                if bytes[index] == 44 {
                    index = skipSpace(index + 1)
                    continue
                }
                guard bytes[index] == (keyed ? 125 : 93) else { throw StreamingJSONDecoder.Unsupported() }
                break
            }
        }
    }

    func string(_ range: Range<Int>) throws -> String {
        guard range.count >= 2, bytes[range.lowerBound] == 34 else { throw StreamingJSONDecoder.Unsupported() }
        return String(decoding: UnsafeBufferPointer(rebasing: bytes[(range.lowerBound + 1)..<(range.upperBound - 1)]), as: UTF8.self)
    }

    func isNull(_ range: Range<Int>) -> Bool {
        range.count == 4 && bytes[range.lowerBound] == 110
    }

    /// The integer `range` holds: an optional minus and digits without a leading zero (a
    /// JSON integer, which `T(_: String)` reads the same), read in place; anything else — a
    /// fraction, an exponent, a value out of `T`'s range — is left to JSONDecoder. It checks
    /// the grammar itself, so it also reads a whole document (``StreamingJSONDecoder/integer(_:)``).
    func integer<T: FixedWidthInteger>(_ type: T.Type, _ range: Range<Int>) throws -> T {
        let negative = !range.isEmpty && bytes[range.lowerBound] == 45
        // "-0" for an unsigned type is left to JSONDecoder.
        guard !negative || T.isSigned else { throw StreamingJSONDecoder.Unsupported() }
        let first = negative ? range.lowerBound + 1 : range.lowerBound
        let count = range.upperBound - first
        guard count > 0, bytes[first] != 48 || count == 1 else { throw StreamingJSONDecoder.Unsupported() }
        // Up to 18 digits cannot overflow an Int: no check per digit (a map's outputs and
        // fields are mostly small integers).
        if count <= 18 {
            var value = 0
            for index in first..<range.upperBound {
                let digit = UInt(bytes[index]) &- 48
                guard digit <= 9 else { throw StreamingJSONDecoder.Unsupported() }
                value = value &* 10 &+ Int(digit)
            }
            guard let result = T(exactly: negative ? -value : value) else { throw StreamingJSONDecoder.Unsupported() }
            return result
        }
        var value: T = 0
        for index in first..<range.upperBound {
            let digit = bytes[index] &- 48
            guard digit <= 9 else { throw StreamingJSONDecoder.Unsupported() }
            // Negative numbers are built downwards, so T.min is reached without overflow.
            let (shifted, overflowA) = value.multipliedReportingOverflow(by: 10)
            let (next, overflowB) = negative ? shifted.subtractingReportingOverflow(T(digit))
                                             : shifted.addingReportingOverflow(T(digit))
            guard !overflowA && !overflowB else { throw StreamingJSONDecoder.Unsupported() }
            value = next
        }
        return value
    }

    func bool(_ range: Range<Int>) throws -> Bool {
        if range.count == 4 && bytes[range.lowerBound] == 116 { return true }
        if range.count == 5 && bytes[range.lowerBound] == 102 { return false }
        throw StreamingJSONDecoder.Unsupported()
    }

    /// A JSON number (the document is validated) as `T`, parsed from its text directly so
    /// a `Float` is rounded once; out of range is left to JSONDecoder.
    func number<T: BinaryFloatingPoint & LosslessStringConvertible>(_ type: T.Type, _ range: Range<Int>) throws -> T {
        guard let first = range.first, bytes[first] == 45 || (bytes[first] >= 48 && bytes[first] <= 57) else {
            throw StreamingJSONDecoder.Unsupported()
        }
        // JSONDecoder refuses `0e6` as a floating-point number (valid JSON): left to it.
        let digit = bytes[first] == 45 ? first + 1 : first
        if digit + 1 < range.upperBound, bytes[digit] == 48, bytes[digit + 1] | 0x20 == 101 {
            throw StreamingJSONDecoder.Unsupported()
        }
        guard let value = T(String(decoding: UnsafeBufferPointer(rebasing: bytes[range]), as: UTF8.self)), value.isFinite else {
            throw StreamingJSONDecoder.Unsupported()
        }
        // A number too small for T (`1e-775` read as 0) is refused by JSONDecoder as out
        // of range (found by FuzzJSONDecoder); subnormals, where parsers may round apart,
        // are left to it as well, so both always agree.
        if value.isSubnormal { throw StreamingJSONDecoder.Unsupported() }
        if value.isZero {
            let mantissa = bytes[range].prefix { $0 | 0x20 != 101 }
            if mantissa.contains(where: { $0 >= 49 && $0 <= 57 }) { throw StreamingJSONDecoder.Unsupported() }
        }
        return value
    }

    /// The scalar (a number, string or Bool) in `range`; other types are left to JSONDecoder
    /// (containers are read by ``DocumentBytes/decode(_:from:)``).
    func scalar<T: Decodable>(_ type: T.Type, _ range: Range<Int>) throws -> T {
        guard JSONScalarTypes.kind(of: type) == .plain else { throw StreamingJSONDecoder.Unsupported() }
        switch type {
        case is Int.Type: return try integer(Int.self, range) as! T
        case is String.Type: return try string(range) as! T
        case is Double.Type: return try number(Double.self, range) as! T
        case is Bool.Type: return try bool(range) as! T
        case is Float.Type: return try number(Float.self, range) as! T
        case is Int8.Type: return try integer(Int8.self, range) as! T
        case is Int16.Type: return try integer(Int16.self, range) as! T
        case is Int32.Type: return try integer(Int32.self, range) as! T
        case is Int64.Type: return try integer(Int64.self, range) as! T
        case is UInt.Type: return try integer(UInt.self, range) as! T
        case is UInt8.Type: return try integer(UInt8.self, range) as! T
        case is UInt16.Type: return try integer(UInt16.self, range) as! T
        case is UInt32.Type: return try integer(UInt32.self, range) as! T
        case is UInt64.Type: return try integer(UInt64.self, range) as! T
        default: throw StreamingJSONDecoder.Unsupported()
        }
    }
}

/// The `Decoder` one value's `init(from:)` sees. Its bounds are kept in 32 bits (see
/// ``StreamingJSONDecoder/decode(_:from:session:)``), so it fits an existential's inline
/// buffer: passed as `any Decoder`, it costs no allocation per value.
private struct RangeDecoder: Decoder {
    let document: DocumentBytes
    private let start: UInt32
    private let end: UInt32
    var range: Range<Int> { Int(start)..<Int(end) }
    var text: JSONText { document.text }

    init(document: DocumentBytes, range: Range<Int>) {
        self.document = document
        start = UInt32(truncatingIfNeeded: range.lowerBound)
        end = UInt32(truncatingIfNeeded: range.upperBound)
    }

    var codingPath: [any CodingKey] { [] }
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        do {
            var members = ObjectMembers()
            try text.items(range, keyed: true) { members.append(key: $0, value: $1) }
            return KeyedDecodingContainer(ObjectReader<Key>(document: document, range: range, members: members))
        } catch is StreamingJSONDecoder.Unsupported where !document.decoding {
            return try document.foundationDecoder(range).container(keyedBy: type)
        }
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        do {
            var elements: [Range<Int>] = []
            try text.items(range, keyed: false) { elements.append($1) }
            return ArrayReader(document: document, elements: elements)
        } catch is StreamingJSONDecoder.Unsupported where !document.decoding {
            return try document.foundationDecoder(range).unkeyedContainer()
        }
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer {
        ValueReader(document: document, range: range)
    }
}

/// Where an object's members lie: the first ``inlineCount`` in place, the rest in an array.
/// A job is mostly a small struct, decoded once per job: its members cost no allocation.
/// Small, as it is copied into each container: offsets in 32 bits (longer documents are
/// left to JSONDecoder).
private struct ObjectMembers {
    static let inlineCount = 4
    private(set) var count = 0
    /// Key start, key end, value start, value end of each inline member.
    private var inline = InlineArray<16, UInt32>(repeating: 0)
    /// `nil` until a member beyond the inline ones: a copy of a reader of a small object
    /// then counts no reference for it.
    private var more: [(key: Range<Int>, value: Range<Int>)]?

    /// Forgets every member, keeping the inline storage: a session's top-level object is
    /// read anew for each document.
    mutating func removeAll() {
        count = 0
        if more != nil { more = nil }
    }

    mutating func append(key: Range<Int>, value: Range<Int>) {
        if count < Self.inlineCount {
            inline[4 * count] = UInt32(truncatingIfNeeded: key.lowerBound)
            inline[4 * count + 1] = UInt32(truncatingIfNeeded: key.upperBound)
            inline[4 * count + 2] = UInt32(truncatingIfNeeded: value.lowerBound)
            inline[4 * count + 3] = UInt32(truncatingIfNeeded: value.upperBound)
        } else {
            more = (more ?? []) + [(key, value)]
        }
        count += 1
    }

    @inline(__always)
    subscript(index: Int) -> (key: Range<Int>, value: Range<Int>) {
        // Compared unsigned: a negative index goes to `more`, whose checked read traps.
        guard UInt(bitPattern: index) < UInt(Self.inlineCount) else { return more![index - Self.inlineCount] }
        // Unchecked: 0 <= index < inlineCount, so all four are within `inline`, and each
        // pair was stored from a Range. A checked read costs more than the lookup it serves.
        let at = 4 * index
        return (Range(uncheckedBounds: (Int(inline[unchecked: at]), Int(inline[unchecked: at + 1]))),
                Range(uncheckedBounds: (Int(inline[unchecked: at + 2]), Int(inline[unchecked: at + 3]))))
    }
}

extension ObjectMembers {
    /// The index of the member named `name`; a key given twice is left to JSONDecoder.
    func index(of name: String, in text: JSONText) throws -> Int? {
        var name = name
        return try name.withUTF8 { name in
            var found: Int?
            for index in 0..<count {
                let key = self[index].key
                guard key.count == name.count
                    && (name.isEmpty || memcmp(text.bytes.baseAddress! + key.lowerBound, name.baseAddress!, name.count) == 0) else {
                    continue
                }
                if found != nil { throw StreamingJSONDecoder.Unsupported() }
                found = index
            }
            return found
        }
    }
}

/// A keyed container over an object's members, wherever they are kept: in the container,
/// or — the top-level object of a session's document — in the session, read anew for each
/// document. One type, its methods its own: methods shared through a protocol extension
/// cost the conformance's witness-table lookup on every field read.
private struct ObjectReader<Key: CodingKey>: KeyedDecodingContainerProtocol {
    /// What keeps the bytes read alive: the session's ``RootDocument`` when `root` points into
    /// it, otherwise the ``DocumentBytes`` of `ownMembers`. One reference: the standard
    /// library's box copies the reader for every field read.
    private let owner: AnyObject
    private let ownRange: Range<Int>
    private let ownMembers: ObjectMembers
    /// The session's document's top-level object, if the members are kept there.
    private let root: UnsafeMutablePointer<RootObject>?

    init(document: DocumentBytes, range: Range<Int>, members: ObjectMembers) {
        owner = document
        ownRange = range
        ownMembers = members
        root = nil
    }

    init(root document: RootDocument) {
        owner = document
        ownRange = 0..<0
        ownMembers = ObjectMembers()
        root = document.root
    }

    private var text: JSONText { root?.pointee.text ?? unsafeDowncast(owner, to: DocumentBytes.self).text }
    private var document: DocumentBytes { root?.pointee.bytes ?? unsafeDowncast(owner, to: DocumentBytes.self) }

    /// The value of member `key`; a key given twice is left to JSONDecoder.
    private func value(_ key: Key) throws -> Range<Int>? {
        if let root { return try root.pointee.value(of: key.stringValue) }
        return try ownMembers.index(of: key.stringValue, in: text).map { ownMembers[$0].value }
    }

    var codingPath: [any CodingKey] { [] }

    var allKeys: [Key] {
        let members = root?.pointee.members ?? ownMembers
        let text = text
        return (0..<members.count).compactMap {
            Key(stringValue: String(decoding: UnsafeBufferPointer(rebasing: text.bytes[members[$0].key]), as: UTF8.self))
        }
    }

    private func required(_ key: Key) throws -> Range<Int> {
        guard let range = try value(key) else { throw StreamingJSONDecoder.Unsupported() }
        return range
    }

    /// True also for a key given twice, so its decoding throws instead of finding nothing.
    func contains(_ key: Key) -> Bool { (try? value(key)) != .some(nil) }

    /// Whether its decode returned: what the fast path refuses is then read by JSONDecoder.
    private var kept: Bool { !document.decoding }

    /// `JSONDecoder`'s container for the same object (see ``DocumentBytes/decoding``).
    private func foundation() throws -> KeyedDecodingContainer<Key> {
        try document.foundationDecoder(root?.pointee.range ?? ownRange).container(keyedBy: Key.self)
    }

    // Out of line, so the fast paths above them instantiate no KeyedDecodingContainer<Key>
    // metadata on every call (a generic-metadata lookup per field read otherwise).
    @inline(never)
    private func foundationDecodeNil(forKey key: Key) throws -> Bool { try foundation().decodeNil(forKey: key) }

    @inline(never)
    private func foundationDecode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
        try foundation().decode(type, forKey: key)
    }

    func decodeNil(forKey key: Key) throws -> Bool {
        do { return text.isNull(try required(key)) } catch is StreamingJSONDecoder.Unsupported where kept { return try foundationDecodeNil(forKey: key) }
    }

    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
        do { return try document.decode(type, from: required(key)) } catch is StreamingJSONDecoder.Unsupported where kept { return try foundationDecode(type, forKey: key) }
    }

    // The commonest fields, read without the generic path's type tests and casts.
    func decode(_ type: Int.Type, forKey key: Key) throws -> Int {
        do { return try text.integer(Int.self, required(key)) } catch is StreamingJSONDecoder.Unsupported where kept { return try foundationDecode(type, forKey: key) }
    }

    func decode(_ type: String.Type, forKey key: Key) throws -> String {
        do { return try text.string(required(key)) } catch is StreamingJSONDecoder.Unsupported where kept { return try foundationDecode(type, forKey: key) }
    }

    func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool {
        do { return try text.bool(required(key)) } catch is StreamingJSONDecoder.Unsupported where kept { return try foundationDecode(type, forKey: key) }
    }

    func decode(_ type: Double.Type, forKey key: Key) throws -> Double {
        do { return try text.number(Double.self, required(key)) } catch is StreamingJSONDecoder.Unsupported where kept { return try foundationDecode(type, forKey: key) }
    }

    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws -> KeyedDecodingContainer<NestedKey> {
        guard kept else { throw StreamingJSONDecoder.Unsupported() }
        return try foundation().nestedContainer(keyedBy: type, forKey: key)
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        guard kept else { throw StreamingJSONDecoder.Unsupported() }
        return try foundation().nestedUnkeyedContainer(forKey: key)
    }

    func superDecoder() throws -> any Decoder {
        guard kept else { throw StreamingJSONDecoder.Unsupported() }
        return try foundation().superDecoder()
    }

    func superDecoder(forKey key: Key) throws -> any Decoder {
        guard kept else { throw StreamingJSONDecoder.Unsupported() }
        return try foundation().superDecoder(forKey: key)
    }
}

private struct ArrayReader: UnkeyedDecodingContainer {
    let document: DocumentBytes
    let elements: [Range<Int>]
    var codingPath: [any CodingKey] { [] }
    var currentIndex = 0
    var count: Int? { elements.count }
    var isAtEnd: Bool { currentIndex >= elements.count }

    private mutating func next() throws -> Range<Int> {
        guard !isAtEnd else { throw StreamingJSONDecoder.Unsupported() }
        defer { currentIndex += 1 }
        return elements[currentIndex]
    }

    mutating func decodeNil() throws -> Bool {
        guard !isAtEnd, document.text.isNull(elements[currentIndex]) else { return false }
        currentIndex += 1
        return true
    }

    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T {
        let index = currentIndex
        do {
            return try document.decode(type, from: next())
        } catch is StreamingJSONDecoder.Unsupported where !document.decoding {
            return try foundation(at: index, expecting: type).singleValueContainer().decode(type)
        }
    }

    /// `JSONDecoder`'s decoder for the element at `index`, read by a container kept past its
    /// decode (see ``DocumentBytes/decoding``): the next element from now on.
    private mutating func foundation(at index: Int, expecting type: Any.Type) throws -> any Decoder {
        currentIndex = index
        guard !isAtEnd else {
            throw DecodingError.valueNotFound(type, .init(codingPath: codingPath, debugDescription: "Unkeyed container is at end."))
        }
        let decoder = try document.foundationDecoder(elements[index])
        currentIndex = index + 1
        return decoder
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<NestedKey> {
        guard !document.decoding else { throw StreamingJSONDecoder.Unsupported() }
        return try foundation(at: currentIndex, expecting: KeyedDecodingContainer<NestedKey>.self).container(keyedBy: type)
    }

    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
        guard !document.decoding else { throw StreamingJSONDecoder.Unsupported() }
        return try foundation(at: currentIndex, expecting: (any UnkeyedDecodingContainer).self).unkeyedContainer()
    }

    mutating func superDecoder() throws -> any Decoder {
        guard !document.decoding else { throw StreamingJSONDecoder.Unsupported() }
        return try foundation(at: currentIndex, expecting: (any Decoder).self)
    }
}

private struct ValueReader: SingleValueDecodingContainer {
    let document: DocumentBytes
    let range: Range<Int>
    var codingPath: [any CodingKey] { [] }

    func decodeNil() -> Bool { document.text.isNull(range) }

    func decode<T: Decodable>(_ type: T.Type) throws -> T {
        do {
            return try document.decode(type, from: range)
        } catch is StreamingJSONDecoder.Unsupported where !document.decoding {
            return try document.foundationDecoder(range).singleValueContainer().decode(type)
        }
    }
}
