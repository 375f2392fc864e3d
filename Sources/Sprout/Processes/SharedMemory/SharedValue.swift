/// One number in shared memory, guarded by a ``ProcessLock`` — multiprocessing's
/// `Value('i', 0)`.
///
/// Send it to workers inside a job (it is `Codable`; the shared memory's name travels).
/// Use ``withLock(_:)-((Value)->T)`` for read-modify-write updates so increments from many processes
/// add up.
public final class SharedValue<Value: SharedScalar>: Codable, @unchecked Sendable {
    private let storage: SharedArray<Value>

    /// A new shared number holding `initial`.
    ///
    /// - Throws: ``SharedMemoryError`` if the shared memory cannot be made.
    public init(_ initial: Value) throws {
        storage = try SharedArray(repeating: initial, count: 1)
    }

    /// The lock guarding the number.
    public var lock: ProcessLock { storage.lock }

    /// The number, read or written under the lock.
    public var value: Value {
        get { storage[0] }
        set { storage[0] = newValue }
    }

    /// Runs `body` on the number while holding the lock.
    ///
    /// - Throws: ``ProcessLockError/previousHolderDied``, without running `body`, if the
    ///   lock's previous holder died holding it (told once, the next call proceeds); what
    ///   `body` throws.
    public func withLock<T>(_ body: (inout Value) throws -> T) throws -> T {
        try storage.withLock { (buffer: UnsafeMutableBufferPointer<Value>) throws -> T in try body(&buffer[0]) }
    }

    /// Runs `body` on the number while holding the lock, telling it whether the lock's
    /// previous holder died holding it.
    ///
    /// - Throws: what `body` throws.
    public func withLock<T>(_ body: (inout Value, _ previousHolderDied: Bool) throws -> T) rethrows -> T {
        try storage.withLock { (buffer: UnsafeMutableBufferPointer<Value>, holderDied: Bool) throws -> T in
            try body(&buffer[0], holderDied)
        }
    }

    /// Encodes the shared memory's name.
    public func encode(to encoder: any Encoder) throws {
        try storage.encode(to: encoder)
    }

    /// Maps the number another process made.
    ///
    /// - Throws: ``SharedMemoryError`` if it no longer exists.
    public init(from decoder: any Decoder) throws {
        storage = try SharedArray(from: decoder)
    }
}
