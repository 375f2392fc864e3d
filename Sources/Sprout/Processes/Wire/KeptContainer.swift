/// A container the streaming coders keep for the next value of a chunk (a keyed container
/// made once per key type, handed out again), copied out without looking up its type.
///
/// Generic over the container's whole type, not its `Key`: `KeyedEncodingContainer` and
/// `KeyedDecodingContainer` are resilient types, so code generic over `Key` that copies one
/// looks its metadata up in the runtime's cache first (about 330 instructions, a tenth of a
/// tiny map job's worker side), while a method of this class finds `Container`'s metadata in
/// its own instance.
final class KeptContainer<Container> {
    private let container: Container

    init(_ container: Container) {
        self.container = container
    }

    /// A copy of the container, written straight into the caller's result. Not inlined: its
    /// caller, generic over `Key`, would then need the metadata itself.
    @inline(never)
    func copy() -> Container { container }
}
