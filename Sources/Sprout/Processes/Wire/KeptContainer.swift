/// A container the streaming coders keep for the next value of a chunk (a keyed container
/// made once per key type, handed out again), copied out without looking up its type.
///
/// Generic over the container's whole type, not its `Key`: `KeyedEncodingContainer` and
/// `KeyedDecodingContainer` are resilient types, so code generic over `Key` that copies one
/// looks its metadata up in the runtime's cache first (about 330 instructions, a tenth of a
/// tiny map job's worker side), while a method of this class finds `Container`'s metadata in
/// its own instance.
final class KeptContainer<Container> {
    /// In memory of its own, so that ``keptContainerHasCopies(at:)`` reads the reference
    /// where it lies.
    private let container = UnsafeMutablePointer<Container>.allocate(capacity: 1)

    init(_ container: Container) {
        // A keyed container is one reference to its box (the standard library's only field),
        // which ``keptContainerHasCopies(at:)`` tests.
        precondition(MemoryLayout<Container>.size == MemoryLayout<AnyObject>.size, "a keyed container is one reference")
        self.container.initialize(to: container)
    }

    deinit {
        container.deinitialize(count: 1)
        container.deallocate()
    }

    /// A copy of the container, written straight into the caller's result. Not inlined: its
    /// caller, generic over `Key`, would then need the metadata itself.
    @inline(never)
    func copy() -> Container { container.pointee }

    /// Where the container lies, for ``keptContainerHasCopies(at:)``: the kept container's
    /// holder tests it there without a reference to this object counted or a dynamic call.
    var storage: UnsafeMutableRawPointer { UnsafeMutableRawPointer(container) }
}

/// Whether a copy handed out of the kept container at `storage` (a ``KeptContainer``'s, which
/// must be alive) is still alive: every copy shares the kept one's box, so the box then has
/// another owner. A value that keeps its container past its own `init(from:)` or
/// `encode(to:)` is found this way, before the container serves the next.
func keptContainerHasCopies(at storage: UnsafeMutableRawPointer) -> Bool {
    // Read as a reference of a native class of ours: the box is one (a class of the standard
    // library), and the uniqueness check reads only its reference count. As `AnyObject`, the
    // check answers `false` for a unique object in a debug build (Swift 6.3, Swift 6 mode).
    storage.withMemoryRebound(to: NativeObject.self, capacity: 1) { !isKnownUniquelyReferenced(&$0.pointee) }
}

/// Any native Swift object, seen only through a reference (``keptContainerHasCopies(at:)``).
private final class NativeObject {}
