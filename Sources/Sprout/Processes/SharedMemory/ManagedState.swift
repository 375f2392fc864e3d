import Synchronization

/// The state of a manager-served object (``SharedDictionary``, ``SharedList``) in the
/// process that owns it, with a version that every change moves on: a copy in another
/// process reads a value and its version, computes, and sends the result back with that
/// version; the owner applies it only if nothing changed meanwhile, else the copy retries.
/// So an update is atomic without a lock that a killed worker could leave held.
final class ManagedState<State: Sendable>: Sendable {
    private let guarded: ThreadMutex<(state: State, version: UInt64)>

    init(_ initial: State) {
        guarded = ThreadMutex((initial, 0))
    }

    /// Reads the state.
    func read<R>(_ body: (State) -> R) -> R {
        guarded.withLock { body($0.state) }
    }

    /// Reads the state with its version.
    func readVersioned<R>(_ body: (State) -> R) -> (R, UInt64) {
        guarded.withLock { (body($0.state), $0.version) }
    }

    /// Changes the state (moving the version on).
    func change<R, E: Error>(_ body: (inout State) throws(E) -> R) throws(E) -> R {
        try guarded.withLock { (guarded: inout (state: State, version: UInt64)) throws(E) -> R in
            guarded.version &+= 1
            return try body(&guarded.state)
        }
    }

    /// Changes the state only if its version is still `version`; returns whether it did.
    func change(ifVersion version: UInt64, _ body: (inout State) -> Void) -> Bool {
        guarded.withLock { guarded in
            guard guarded.version == version else { return false }
            guarded.version &+= 1
            body(&guarded.state)
            return true
        }
    }
}
