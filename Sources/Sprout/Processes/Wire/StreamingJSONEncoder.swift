import FoundationEssentials
import Glibc
import Synchronization

/// Writes JSON straight into a byte buffer while a value's `encode(to:)` runs, without the
/// intermediate tree Foundation's `JSONEncoder` builds: jobs are encoded once per item, so
/// this is on the hot path of a map over many small jobs.
///
/// It handles what synthesized `Codable` conformances do (keyed, unkeyed and single-value
/// containers, one at a time); anything else (nested or super encoders, non-finite numbers)
/// makes ``encode(_:)`` throw ``Unsupported`` and the caller falls back to `JSONEncoder`.
final class StreamingJSONEncoder {
    /// The value needs `JSONEncoder`.
    struct Unsupported: Error {}

    // Unchecked: every write of every value touches these, and the encoder is never shared
    // between threads or reentered; dynamic exclusivity checks cost more than the writes.
    @exclusivity(unchecked) fileprivate var bytes: ByteWriter
    @exclusivity(unchecked) fileprivate var unsupported = false
    /// Coding keys already written, with where their JSON text and colon lie in `keyText`:
    /// a chunk's jobs write the same few keys again and again.
    @exclusivity(unchecked) private var keys: [WrittenKey] = []
    @exclusivity(unchecked) private var keyText = ByteWriter(capacity: 0)

    fileprivate init(capacity: Int) {
        bytes = ByteWriter(capacity: capacity)
    }

    /// A coding key written before. `bits` are its name's (the `String` value itself, not
    /// its text): a synthesized key's `stringValue` is the same literal every time, and
    /// equal bits are equal bytes, so most keys are found without reading their text.
    private struct WrittenKey {
        typealias Bits = (UInt64, UInt64)
        let bits: Bits
        /// Kept so that no other `String` can have `bits` while this key is held.
        let name: String
        /// Where its text lies in `keyText`.
        let start: Int
        let count: Int
    }

    /// What one coder keeps from one encode to the next (a pool's single jobs, a map's
    /// chunks): the encoder with its buffers and written keys, and the shared `Encoder` with
    /// its kept container, as a chunk shares them between its jobs. Making them anew cost each
    /// single job five allocations (callgrind, `instructions.py pool-roundtrip`), and each
    /// chunk as much plus the kept container's metadata lookups.
    ///
    /// One encode at a time uses it (a compare-exchange decides): an encode that finds it in
    /// use — another thread's, or one nested in a value's `encode(to:)` — goes without.
    final class Session: @unchecked Sendable {
        private let busy = Atomic<Bool>(false)
        /// Only used while `busy` is held.
        private let stream = StreamingJSONEncoder(capacity: 64)
        @exclusivity(unchecked) private var shared: StreamEncoder?

        init() {}

        /// Runs `body` with the session's stream emptied and its shared encoder, or returns
        /// `nil` (running nothing) when the session is in use.
        fileprivate func withStream<Result>(_ body: (StreamingJSONEncoder, inout StreamEncoder?) throws -> Result) rethrows -> Result? {
            guard busy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged else { return nil }
            defer {
                if stream.bytes.capacity > keptCapacity { stream.bytes = ByteWriter(capacity: 64) }
                busy.store(false, ordering: .releasing)
            }
            stream.bytes.removeAll()
            stream.unsupported = false
            return try body(stream, &shared)
        }
    }

    /// The most bytes a session's buffer keeps between values: a larger value's buffer is
    /// given back rather than held for the coder's life.
    private static let keptCapacity = 1 << 16

    /// The JSON text of `value`, written with what `session` (if any) kept from earlier values.
    ///
    /// - Throws: ``Unsupported``; whatever the value's `encode(to:)` throws.
    static func encode<Value: Encodable>(_ value: Value, session: Session? = nil) throws -> [UInt8] {
        let text = try session?.withStream { stream, shared in
            try stream.writeTop(value, ownEncoding: isContainer(Value.self), shared: &shared)
            if stream.unsupported { throw Unsupported() }
            return Array(stream.bytes.bytes)
        }
        if let text { return text }
        let stream = StreamingJSONEncoder(capacity: 64)
        try stream.write(value, codingPath: [])
        if stream.unsupported { throw Unsupported() }
        return Array(stream.bytes.bytes)
    }

    /// The JSON text of each of `values`, appended to `buffer`, with where each lies: one
    /// encoder and one buffer for a whole chunk of jobs, `session`'s (if any) kept from
    /// earlier chunks.
    ///
    /// - Throws: ``Unsupported``; whatever a value's `encode(to:)` throws.
    static func encode<Value: Encodable>(each values: [Value], into buffer: inout [UInt8], session: Session? = nil) throws -> [Range<Int>] {
        let ranges = try session?.withStream { stream, shared in try stream.writeEach(values, into: &buffer, shared: &shared) }
        if let ranges { return ranges }
        var shared: StreamEncoder?
        return try StreamingJSONEncoder(capacity: 16 * values.count).writeEach(values, into: &buffer, shared: &shared)
    }

    /// Writes each of `values` into the stream, which starts empty, then appends the text
    /// to `buffer` in one go, and returns where each value lies there.
    private func writeEach<Value: Encodable>(_ values: [Value], into buffer: inout [UInt8], shared: inout StreamEncoder?) throws -> [Range<Int>] {
        let offset = buffer.count
        var ranges: [Range<Int>] = []
        ranges.reserveCapacity(values.count)
        // Which way the values are written is decided once per chunk, not per value, and
        // values with their own `encode(to:)` (most jobs) share one encoder while none of
        // them keeps it.
        let ownEncoding = Self.isContainer(Value.self)
        for value in values {
            let start = bytes.count
            try writeTop(value, ownEncoding: ownEncoding, shared: &shared)
            if unsupported { throw Unsupported() }
            ranges.append((offset + start)..<(offset + bytes.count))
        }
        buffer.append(contentsOf: bytes.bytes)
        return ranges
    }

    /// Writes a top-level value (a chunk's job, or a session's value). One written through
    /// its own `encode(to:)` (`ownEncoding`) gets `shared`, made if `nil` — unless a value
    /// before it kept it, when it gets a new one, which is then shared.
    private func writeTop<Value: Encodable>(_ value: Value, ownEncoding: Bool, shared: inout StreamEncoder?) throws {
        guard ownEncoding else { return try write(value, codingPath: []) }
        if shared != nil && isKnownUniquelyReferenced(&shared!) {
            shared.unsafelyUnwrapped.reset()
        } else {
            shared = StreamEncoder(stream: self, codingPath: [], keepsContainers: true)
        }
        try shared.unsafelyUnwrapped.write(value)
    }

    /// Whether `write(_:codingPath:)` writes a `Value` through its own `encode(to:)`.
    private static func isContainer<Value>(_ type: Value.Type) -> Bool {
        type != Int.self && type != String.self && JSONScalarTypes.kind(of: type) == nil
    }

    fileprivate func write<Value: Encodable>(_ value: Value, codingPath: @autoclosure () -> [any CodingKey]) throws {
        // The commonest fields first, by type identity: no set lookup, no failed casts.
        if Value.self == Int.self {
            writeInteger(unsafeBitCast(value, to: Int.self))
            return
        }
        if Value.self == String.self {
            writeString(unsafeBitCast(value, to: String.self))
            return
        }
        switch JSONScalarTypes.kind(of: Value.self) {
        case .plain?: break
        case .foundation?:
            unsupported = true
            return
        case nil:
            // The path is made only here: a plain value never needs it.
            try StreamEncoder(stream: self, codingPath: codingPath()).write(value)
            return
        }
        switch value {
        case let flag as Bool: bytes.append(flag ? "true" : "false")
        case let number as Double: writeDouble(number)
        case let number as Float: writeDouble(Double(number))
        case let integer as Int8: bytes.append(utf8: String(integer))
        case let integer as Int16: bytes.append(utf8: String(integer))
        case let integer as Int32: bytes.append(utf8: String(integer))
        case let integer as Int64: bytes.append(utf8: String(integer))
        case let integer as UInt: bytes.append(utf8: String(integer))
        case let integer as UInt8: bytes.append(utf8: String(integer))
        case let integer as UInt16: bytes.append(utf8: String(integer))
        case let integer as UInt32: bytes.append(utf8: String(integer))
        case let integer as UInt64: bytes.append(utf8: String(integer))
        default: unsupported = true
        }
    }

    fileprivate func writeDouble(_ number: Double) {
        guard number.isFinite else {
            unsupported = true
            return
        }
        // Whole numbers as JSONEncoder writes them ("3", not "3.0"), a negative zero too
        // ("-0": Int64 has no sign for it, and the value would arrive as +0).
        if number == number.rounded(), abs(number) < 1e15 {
            if number == 0 && number.sign == .minus { bytes.append(45) }
            bytes.append(utf8: String(Int64(number)))
        } else {
            bytes.append(utf8: number.description)
        }
    }

    fileprivate func writeInteger(_ integer: Int) {
        DecimalText.with(integer) { bytes.append($0) }
    }

    /// Writes a coding key and its colon.
    fileprivate func writeKey(_ name: String) {
        let bits = unsafeBitCast(name, to: WrittenKey.Bits.self)
        // By index: a loop over the elements would copy (retain and release) each entry.
        for index in keys.indices where keys[index].bits == bits {
            writeKnownKey(index)
            return
        }
        // By bytes: `==` on strings is canonical equivalence, and "é" written as one scalar
        // or as "e" and an accent are different keys on the wire.
        for index in keys.indices where Self.sameBytes(keys[index].name, name) {
            writeKnownKey(index)
            return
        }
        let start = bytes.count
        writeString(name)
        bytes.append(58)
        // A few keys: a type's fields, not a dictionary's keys.
        if keys.count < 16 {
            let text = UnsafeRawBufferPointer(rebasing: bytes.bytes[start...])
            keys.append(WrittenKey(bits: bits, name: name, start: keyText.count, count: text.count))
            keyText.append(text)
        }
    }

    private func writeKnownKey(_ index: Int) {
        bytes.append(UnsafeRawBufferPointer(start: keyText.base + keys[index].start, count: keys[index].count))
    }

    /// Whether two strings are the same UTF-8 bytes (compared with memcmp: through the UTF-8
    /// views or a generic elementsEqual, a short key cost more than writing it).
    private static func sameBytes(_ first: String, _ second: String) -> Bool {
        var first = first
        var second = second
        return first.withUTF8 { one in
            second.withUTF8 { other in
                one.count == other.count && (one.isEmpty || memcmp(one.baseAddress!, other.baseAddress!, one.count) == 0)
            }
        }
    }

    fileprivate func writeString(_ string: String) {
        // Most strings (every coding key) need no escaping: copied in one go.
        var string = string
        let plain = string.withUTF8 { utf8 in
            guard utf8.allSatisfy({ $0 >= 32 && $0 != 34 && $0 != 92 }) else { return false }
            bytes.append(34)
            bytes.append(UnsafeRawBufferPointer(utf8))
            bytes.append(34)
            return true
        }
        if plain { return }
        bytes.append(34)
        for byte in string.utf8 {
            switch byte {
            case 34: bytes.append("\\\"")
            case 92: bytes.append("\\\\")
            case 10: bytes.append("\\n")
            case 13: bytes.append("\\r")
            case 9: bytes.append("\\t")
            case 0..<32:
                let hex: [UInt8] = Array("0123456789abcdef".utf8)
                bytes.append("\\u00")
                bytes.append(hex[Int(byte >> 4)])
                bytes.append(hex[Int(byte & 15)])
            default: bytes.append(byte)
            }
        }
        bytes.append(34)
    }
}

/// The `Encoder` one value's `encode(to:)` sees.
///
/// A container (or the encoder) a value keeps and writes after its `encode(to:)` returned
/// writes nowhere: its value's text is done, and the stream goes on with other values (a
/// chunk's next jobs, or the enclosing value's next field). `JSONEncoder`'s likewise write
/// into storage it no longer reads.
private final class StreamEncoder: Encoder {
    enum Opened { case nothing, keyed, unkeyed, single }

    let stream: StreamingJSONEncoder
    let codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }
    var opened = Opened.nothing
    /// Entries written into the open container, for commas; for a single value, 0 or 1.
    var count = 0
    /// Whether its value's `encode(to:)` returned: its containers then write nowhere.
    /// Unchecked: read by every write, and the encoder is never shared between threads.
    @exclusivity(unchecked) private(set) var finished = false

    /// Whether it keeps the keyed container it made for the next value (a chunk's shared
    /// encoder does; one that encodes a single value would only pay for keeping it).
    private let keepsContainers: Bool

    init(stream: StreamingJSONEncoder, codingPath: [any CodingKey], keepsContainers: Bool = false) {
        self.stream = stream
        self.codingPath = codingPath
        self.keepsContainers = keepsContainers
    }

    deinit {
        // Its kept container's copies refer to it unowned: retired before it goes (``close()``
        // retires those a value kept; this, any left).
        if keptHasCopies { keptState?.retired = true }
    }

    /// Ready for the next value at the same place (a chunk's next job).
    func reset() {
        opened = .nothing
        count = 0
        finished = false
    }

    private func open(_ kind: Opened, _ text: UInt8?) {
        if finished { return }
        if opened == .nothing {
            opened = kind
            if let text { stream.bytes.append(text) }
        } else if opened != kind {
            stream.unsupported = true
        }
    }

    /// The keyed container made last, with its key type: handed out again when the next
    /// value (a chunk's next job) asks for the same key type, as making one looks up two
    /// generic types' metadata and allocates — more than writing a small job. It is a
    /// `KeptContainer<KeyedEncodingContainer<Key>>` (`keptStorage` its storage, tested for
    /// copies without counting a reference); `keptState` retires it.
    private var keptType: ObjectIdentifier?
    private var kept: AnyObject?
    @exclusivity(unchecked) private var keptStorage: UnsafeMutableRawPointer?
    private var keptState: KeptStreamState?

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        open(.keyed, 123)
        if keptType == ObjectIdentifier(type), !finished {
            return unsafeDowncast(kept.unsafelyUnwrapped, to: KeptContainer<KeyedEncodingContainer<Key>>.self).copy()
        }
        // One kept at a time: one a value holds is kept until its value ends (``close()``).
        guard keepsContainers, !finished, !keptHasCopies else { return KeyedEncodingContainer(KeyedStream<Key>(encoder: self)) }
        return keep(type).copy()
    }

    /// Makes the container `container(keyedBy:)` hands out for `Key` and keeps it. Apart, so
    /// that its temporary, sized by the metadata, costs the kept container's path nothing.
    @inline(never)
    private func keep<Key: CodingKey>(_ type: Key.Type) -> KeptContainer<KeyedEncodingContainer<Key>> {
        let state = KeptStreamState()
        let container = KeptContainer(KeyedEncodingContainer(KeyedStream<Key>(kept: self, state: state)))
        keptType = ObjectIdentifier(type)
        kept = container
        keptStorage = container.storage
        keptState = state
        return container
    }

    /// Whether a copy of the kept container is held.
    private var keptHasCopies: Bool {
        guard let keptStorage else { return false }
        return keptContainerHasCopies(at: keptStorage)
    }

    /// Retires the kept container if a copy of it is still held, and then forgets it: its
    /// holder's writes go nowhere from now on.
    private func retireKept() {
        guard keptHasCopies else { return }
        keptState.unsafelyUnwrapped.retired = true
        keptType = nil
        kept = nil
        self.keptStorage = nil
        keptState = nil
    }

    /// Writes `value` through its `encode(to:)` and ends its writing: finished when it
    /// returns, closed when it throws (the enclosing value may catch the error and go on
    /// writing, and a container the value kept must not stay writable).
    func write<Value: Encodable>(_ value: Value) throws {
        do {
            try value.encode(to: self)
        } catch {
            close()
            throw error
        }
        finish()
    }

    /// Ends its value's writing (``finish()`` does; a chunk whose value threw calls it
    /// alone): its containers write nowhere from now on, and a kept container a value still
    /// holds is retired, so that it never writes into the next value.
    func close() {
        finished = true
        retireKept()
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        open(.unkeyed, 91)
        return UnkeyedStream(encoder: self)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer {
        open(.single, nil)
        return SingleStream(encoder: self)
    }

    /// Closes what `encode(to:)` opened (an encoder given nothing writes `{}`, as
    /// `JSONEncoder` does).
    func finish() {
        switch opened {
        case .nothing: stream.bytes.append("{}")
        case .keyed: stream.bytes.append(125)
        case .unkeyed: stream.bytes.append(93)
        case .single: if count != 1 { stream.unsupported = true }
        }
        close()
    }

    func separate() {
        if count > 0 { stream.bytes.append(44) }
        count += 1
    }

    func child<Value: Encodable>(_ value: Value, key: (any CodingKey)?) throws {
        try stream.write(value, codingPath: key.map { codingPath + [$0] } ?? codingPath)
    }

    /// What nested and super encoders return: writes nowhere, and marks the value unsupported.
    func refuse() -> StreamEncoder {
        if !finished { stream.unsupported = true }
        return StreamEncoder(stream: StreamingJSONEncoder(capacity: 0), codingPath: codingPath)
    }
}

/// Whether a container its encoder kept (``StreamEncoder``'s `kept`) was retired: a value
/// held it past its own `encode(to:)`, and it writes nowhere since.
private final class KeptStreamState {
    @exclusivity(unchecked) var retired = false
}

private struct KeyedStream<Key: CodingKey>: KeyedEncodingContainerProtocol {
    /// The encoder it writes through, unowned: `owner` keeps it alive — unless the encoder
    /// keeps the container for its next value (``StreamEncoder``'s `kept`), where a strong
    /// reference back would make a cycle: then `owner` is the container's
    /// ``KeptStreamState``, which says whether it was retired; while it was not, the encoder
    /// is alive (an encoder retires a kept container that has copies when its value ends,
    /// and at the latest when it goes). One reference: the standard library's box copies
    /// the container for every field written.
    private let encoder: Unmanaged<StreamEncoder>
    private let owner: AnyObject
    /// Whether `owner` is the encoder (a flag, not a comparison with `encoder`, which may
    /// be gone once retired: reading it then would count a reference on freed memory).
    private let held: Bool

    init(encoder: StreamEncoder) {
        self.encoder = Unmanaged.passUnretained(encoder)
        owner = encoder
        held = true
    }

    init(kept encoder: StreamEncoder, state: KeptStreamState) {
        self.encoder = Unmanaged.passUnretained(encoder)
        owner = state
        held = false
    }

    /// Whether its writes still go to its value's text: `false` once its value was written
    /// (the writes then go nowhere; see ``StreamEncoder``), when the encoder may be gone.
    private var live: Bool {
        if held { return encoder._withUnsafeGuaranteedRef { !$0.finished } }
        return !unsafeDowncast(owner, to: KeptStreamState.self).retired
    }

    /// Hands `body` the encoder, after writing `key`, if `live`. The encoder is passed as
    /// it is held, without a reference counted per field.
    @inline(__always)
    private func field<Result>(_ key: Key, _ body: (StreamEncoder) throws -> Result) rethrows -> Result? {
        guard live else { return nil }
        return try encoder._withUnsafeGuaranteedRef { encoder in
            encoder.separate()
            encoder.stream.writeKey(key.stringValue)
            return try body(encoder)
        }
    }

    var codingPath: [any CodingKey] { live ? encoder.takeUnretainedValue().codingPath : [] }

    mutating func encodeNil(forKey key: Key) throws {
        field(key) { $0.stream.bytes.append("null") }
    }

    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        try field(key) { try $0.child(value, key: key) }
    }

    // The commonest fields, written as the generic path writes them without its dispatch.
    mutating func encode(_ value: Int, forKey key: Key) throws {
        field(key) { $0.stream.writeInteger(value) }
    }

    mutating func encode(_ value: String, forKey key: Key) throws {
        field(key) { $0.stream.writeString(value) }
    }

    mutating func encode(_ value: Bool, forKey key: Key) throws {
        field(key) { $0.stream.bytes.append(value ? "true" : "false") }
    }

    mutating func encode(_ value: Double, forKey key: Key) throws {
        field(key) { $0.stream.writeDouble(value) }
    }

    /// Where a nested or super encoder writes: nowhere, and the value is marked unsupported
    /// (unless its writing ended).
    private func refuse() -> StreamEncoder {
        live ? encoder.takeUnretainedValue().refuse() : StreamEncoder(stream: StreamingJSONEncoder(capacity: 0), codingPath: [])
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key) -> KeyedEncodingContainer<NestedKey> {
        refuse().container(keyedBy: keyType)
    }

    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        refuse().unkeyedContainer()
    }

    mutating func superEncoder() -> any Encoder { refuse() }
    mutating func superEncoder(forKey key: Key) -> any Encoder { refuse() }
}

private struct UnkeyedStream: UnkeyedEncodingContainer {
    let encoder: StreamEncoder
    var codingPath: [any CodingKey] { encoder.codingPath }
    var count: Int { encoder.count }

    mutating func encodeNil() throws {
        guard !encoder.finished else { return }
        encoder.separate()
        encoder.stream.bytes.append("null")
    }

    mutating func encode<T: Encodable>(_ value: T) throws {
        guard !encoder.finished else { return }
        encoder.separate()
        try encoder.child(value, key: nil)
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
        encoder.refuse().container(keyedBy: keyType)
    }

    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer { encoder.refuse().unkeyedContainer() }
    mutating func superEncoder() -> any Encoder { encoder.refuse() }
}

private struct SingleStream: SingleValueEncodingContainer {
    let encoder: StreamEncoder
    var codingPath: [any CodingKey] { encoder.codingPath }

    mutating func encodeNil() throws {
        guard !encoder.finished else { return }
        encoder.count += 1
        encoder.stream.bytes.append("null")
    }

    mutating func encode<T: Encodable>(_ value: T) throws {
        guard !encoder.finished else { return }
        encoder.count += 1
        try encoder.child(value, key: nil)
    }
}
