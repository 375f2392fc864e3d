/// A map's outcomes not yet read, in slots from the oldest unread one: outputs kept typed
/// in memory of their own, failures aside. Not an array of `Result`s or of `Any`: the map
/// runs in code not specialized for the job type, where every access to a generic
/// container looks its type's metadata up and every `Any` costs a dynamic cast to read —
/// each more than a tiny job's whole bookkeeping. Here an output is written and read
/// through the output type's own value witnesses only, and ready outputs leave in bulk.
final class MapOutcomes<Output> {
    // Unchecked: touched for every job, on the hub only.
    /// What each slot from `head` on holds (``empty``, ``output``, ``failure``).
    @exclusivity(unchecked) private var states: [UInt8] = []
    @exclusivity(unchecked) private var failures: [Int: any Error] = [:]
    @exclusivity(unchecked) private var head = 0
    /// Slot `k`'s output, where `states[k]` says there is one.
    private var outputs: UnsafeMutablePointer<Output>
    private var capacity: Int

    private static var empty: UInt8 { 0 }
    private static var output: UInt8 { 1 }
    private static var failure: UInt8 { 2 }

    init() {
        capacity = 64
        outputs = .allocate(capacity: capacity)
    }

    deinit {
        for slot in head..<states.count where states[slot] == Self.output { (outputs + slot).deinitialize(count: 1) }
        outputs.deallocate()
    }

    /// Slots after the oldest unread one, filled or not.
    var count: Int { states.count - head }

    /// Stores `output` in slot `offset` (0 is the oldest unread), which is empty.
    func put(_ output: Output, at offset: Int) {
        let slot = open(offset)
        (outputs + slot).initialize(to: output)
        states[slot] = Self.output
    }

    /// Where `Output` is `T`: room for `count` outputs in slots `offset`, `offset + 1`, …,
    /// which are empty, for the caller to initialize and then count with
    /// ``putOutputs(at:count:)``. A chunk's plain outputs go from the frame to their slots
    /// with no value witness or dynamic cast per output.
    func slots<T>(_ type: T.Type, at offset: Int, count: Int) -> UnsafeMutablePointer<T> {
        precondition(T.self == Output.self, "Sprout: \(T.self) outputs put into outcomes of \(Output.self)")
        if head + offset + count > capacity { grow(toHold: offset + count) }
        return UnsafeMutableRawPointer(outputs + head + offset).assumingMemoryBound(to: T.self)
    }

    /// Counts the `count` outputs initialized at ``slots(_:at:count:)``'s pointer for slot
    /// `offset` (at most the room asked for) as stored.
    func putOutputs(at offset: Int, count: Int) {
        guard count > 0 else { return }
        let slot = head + offset
        if slot + count > states.count { states.append(contentsOf: repeatElement(Self.empty, count: slot + count - states.count)) }
        states.withUnsafeMutableBufferPointer { $0[slot..<(slot + count)].update(repeating: Self.output) }
    }

    /// Stores `error` in slot `offset`, which is empty.
    func put(failure error: any Error, at offset: Int) {
        let slot = open(offset)
        failures[slot] = error
        states[slot] = Self.failure
    }

    /// The slot for `offset`, with room for it and empty slots before it.
    private func open(_ offset: Int) -> Int {
        if head + offset >= capacity { grow(toHold: offset + 1) }
        let slot = head + offset
        if slot >= states.count { states.append(contentsOf: repeatElement(Self.empty, count: slot + 1 - states.count)) }
        return slot
    }

    /// Makes room for `unread` slots from the oldest unread one.
    private func grow(toHold unread: Int) {
        // Read slots are dropped first, so the memory grows only with what is unread.
        compact()
        guard head + unread > capacity else { return }
        let larger = max(capacity * 2, unread)
        let moved = UnsafeMutablePointer<Output>.allocate(capacity: larger)
        for slot in head..<states.count where states[slot] == Self.output {
            (moved + slot - head).moveInitialize(from: outputs + slot, count: 1)
        }
        outputs.deallocate()
        outputs = moved
        capacity = larger
        shift()
    }

    /// Moves the unread slots to the front once the read ones are most of the storage.
    private func compact() {
        guard head > 0 && head * 2 >= states.count else { return }
        for slot in head..<states.count where states[slot] == Self.output {
            (outputs + slot - head).moveInitialize(from: outputs + slot, count: 1)
        }
        shift()
    }

    /// Renumbers the slots after their outputs moved `head` places down.
    private func shift() {
        guard head > 0 else { return }
        states.removeFirst(head)
        if !failures.isEmpty { failures = Dictionary(uniqueKeysWithValues: failures.map { ($0.key - head, $0.value) }) }
        head = 0
    }

    /// Appends the outputs ready in a row from the oldest unread slot to `target`, moving
    /// them out; returns how many.
    func takeReadyOutputs(into target: inout [Output]) -> Int {
        var ready = 0
        while head + ready < states.count && states[head + ready] == Self.output { ready += 1 }
        guard ready > 0 else { return 0 }
        target.append(contentsOf: UnsafeBufferPointer(start: outputs + head, count: ready))
        (outputs + head).deinitialize(count: ready)
        head += ready
        if head >= 1024 { compact() }
        return ready
    }

    /// The oldest unread outcome, taken, if it has arrived.
    func takeFirst() -> Result<Output, any Error>? {
        guard head < states.count else { return nil }
        let outcome: Result<Output, any Error>
        switch states[head] {
        case Self.output: outcome = .success((outputs + head).move())
        case Self.failure: outcome = .failure(failures.removeValue(forKey: head)!)
        default: return nil
        }
        head += 1
        if head >= 1024 { compact() }
        return outcome
    }
}
