/// A growable run of bytes written through a pointer, for the streaming JSON encoder: each
/// append to an `Array` checks its uniqueness and capacity through calls, which for the few
/// bytes of a small job cost more than writing them (≈45 instructions for one byte, ≈90 for
/// a cached key; callgrind, `sprout-bench-pool pool-map-tiny`).
struct ByteWriter: ~Copyable {
    private(set) var base: UnsafeMutablePointer<UInt8>
    /// Bytes written.
    private(set) var count = 0
    private(set) var capacity: Int

    init(capacity: Int) {
        self.capacity = max(capacity, 16)
        base = .allocate(capacity: self.capacity)
    }

    deinit {
        base.deallocate()
    }

    /// Forgets the bytes written, keeping the buffer.
    mutating func removeAll() {
        count = 0
    }

    /// The bytes written.
    var bytes: UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: base, count: count)
    }

    @inline(__always)
    mutating func append(_ byte: UInt8) {
        if count == capacity { grow(toHold: 1) }
        base[count] = byte
        count += 1
    }

    @inline(__always)
    mutating func append(_ bytes: UnsafeRawBufferPointer) {
        if capacity - count < bytes.count { grow(toHold: bytes.count) }
        if let source = bytes.baseAddress {
            UnsafeMutableRawPointer(base + count).copyMemory(from: source, byteCount: bytes.count)
        }
        count += bytes.count
    }

    /// Appends a literal's UTF-8 bytes.
    @inline(__always)
    mutating func append(_ text: StaticString) {
        append(UnsafeRawBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }

    /// Appends a string's UTF-8 bytes.
    mutating func append(utf8 string: String) {
        var string = string
        string.withUTF8 { append(UnsafeRawBufferPointer($0)) }
    }

    /// Makes room for `more` bytes after those written: at least twice the capacity, so a
    /// run of appends costs a few copies.
    @inline(never)
    private mutating func grow(toHold more: Int) {
        let capacity = max(count + more, 2 * self.capacity)
        let grown = UnsafeMutablePointer<UInt8>.allocate(capacity: capacity)
        grown.initialize(from: base, count: count)
        base.deallocate()
        base = grown
        self.capacity = capacity
    }
}
