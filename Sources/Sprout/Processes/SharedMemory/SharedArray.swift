import Glibc

/// A fixed number of numbers in shared memory, guarded by a ``ProcessLock`` —
/// multiprocessing's `Array('d', n)`. A ``SharedValue`` is a `SharedArray` of one.
///
/// Send it to workers inside a job: it is `Codable`, and what travels is the shared
/// memory's name; every process that decodes it sees the same numbers.
public final class SharedArray<Element: SharedScalar>: Codable, @unchecked Sendable {
    /// The lock guarding the numbers.
    public let lock: ProcessLock
    /// How many numbers it holds.
    public let count: Int
    private let region: SharedRegion
    private let elements: UnsafeMutablePointer<Element>

    private static var dataOffset: Int { 64 + ProcessLock.size }

    /// `count` numbers in new shared memory, each `initial`.
    ///
    /// - Throws: ``SharedMemoryError`` if the shared memory cannot be made.
    public convenience init(repeating initial: Element, count: Int) throws {
        try self.init(count: count) { $0.initialize(repeating: initial, count: count) }
    }

    /// The numbers of `values` in new shared memory.
    ///
    /// - Throws: ``SharedMemoryError`` if the shared memory cannot be made.
    public convenience init(_ values: [Element]) throws {
        try self.init(count: values.count) { pointer in
            for (index, value) in values.enumerated() { (pointer + index).initialize(to: value) }
        }
    }

    private init(count: Int, fill: (UnsafeMutablePointer<Element>) -> Void) throws {
        region = try SharedRegion(size: Self.dataOffset + max(count, 1) * MemoryLayout<Element>.stride)
        region.base.storeBytes(of: UInt64(count), as: UInt64.self)
        self.count = count
        lock = ProcessLock(region: region, offset: 64, initialize: true)
        elements = (region.base + Self.dataOffset).bindMemory(to: Element.self, capacity: max(count, 1))
        fill(elements)
    }

    /// The array in a region another process made, its element count checked against the
    /// region's size: a count that would run past the mapping is an error, not a crash.
    private init(region: SharedRegion) throws(SharedMemoryError) {
        let stored = region.base.load(as: UInt64.self)
        let stride = UInt64(MemoryLayout<Element>.stride)
        let room = UInt64(region.size - Self.dataOffset) / stride
        guard stored <= room else {
            throw SharedMemoryError(operation: "map SharedArray \(region.name)", code: EINVAL,
                                    detail: "it claims \(stored) elements of \(stride) bytes; the region has room for \(room)")
        }
        self.region = region
        count = Int(stored)
        lock = ProcessLock(region: region, offset: 64, initialize: false)
        elements = (region.base + Self.dataOffset).bindMemory(to: Element.self, capacity: max(count, 1))
    }

    /// The number at `index`, read or written under the lock.
    public subscript(index: Int) -> Element {
        get {
            precondition(index >= 0 && index < count, "SharedArray index \(index) out of range 0..<\(count)")
            lock.lockKeepingNews()
            defer { lock.unlock() }
            return elements[index]
        }
        set {
            precondition(index >= 0 && index < count, "SharedArray index \(index) out of range 0..<\(count)")
            lock.lockKeepingNews()
            defer { lock.unlock() }
            elements[index] = newValue
        }
    }

    /// A copy of all the numbers, taken under the lock.
    public var values: [Element] {
        lock.lockKeepingNews()
        defer { lock.unlock() }
        return Array(UnsafeBufferPointer(start: elements, count: count))
    }

    /// Runs `body` on the numbers while holding the lock, so updates from many processes
    /// add up (`+=` alone is a read and a write another process can come between).
    ///
    /// - Throws: ``ProcessLockError/previousHolderDied``, without running `body`, if the
    ///   lock's previous holder died holding it (the numbers may be half-updated; told
    ///   once, the next call proceeds); what `body` throws.
    public func withLock<T>(_ body: (UnsafeMutableBufferPointer<Element>) throws -> T) throws -> T {
        try lock.withLock { () throws -> T in try body(UnsafeMutableBufferPointer(start: elements, count: count)) }
    }

    /// Runs `body` on the numbers while holding the lock, telling it whether the lock's
    /// previous holder died holding it (the numbers may be half-updated: repair them here).
    ///
    /// - Throws: what `body` throws.
    public func withLock<T>(_ body: (UnsafeMutableBufferPointer<Element>, _ previousHolderDied: Bool) throws -> T) rethrows -> T {
        try lock.withLock { (holderDied: Bool) throws -> T in
            try body(UnsafeMutableBufferPointer(start: elements, count: count), holderDied)
        }
    }

    /// Encodes the shared memory's name.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(region.name)
    }

    /// Maps the numbers another process made.
    ///
    /// - Throws: ``SharedMemoryError`` if they no longer exist or the region is smaller
    ///   than the numbers it claims to hold.
    public convenience init(from decoder: any Decoder) throws {
        let name = try decoder.singleValueContainer().decode(String.self)
        try self.init(region: try SharedRegion(opening: name, atLeast: Self.dataOffset))
    }
}
