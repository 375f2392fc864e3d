/// The registry's map from a task's address to its greenlet: an open-addressing table
/// with linear probing and a multiplicative hash of the address.
///
/// The hub asks it on every job it runs ("is this task a greenlet?") and on every park;
/// a `Dictionary` spent most of those lookups in SipHash, which guards against chosen
/// keys — something task addresses, picked by the allocator, never are.
struct TaskTable<Value>: ~Copyable {
    /// Task addresses; 0 marks a free slot (no task lives at address 0).
    private var keys: [UInt]
    private var values: [Value?]
    private var shift: Int
    /// How many tasks the table holds.
    private(set) var count = 0

    init() {
        keys = Array(repeating: 0, count: 16)
        values = Array(repeating: nil, count: 16)
        shift = UInt.bitWidth - 4
    }

    private var mask: Int { keys.count - 1 }

    private func home(of key: UInt) -> Int {
        // Fibonacci hashing: the top bits of the product spread addresses that differ
        // only in their low, aligned bits over the whole table.
        Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> UInt(shift))
    }

    /// The slot holding `key`, or `nil`.
    private func slot(of key: UInt) -> Int? {
        var index = home(of: key)
        while true {
            let found = keys[index]
            if found == key { return index }
            if found == 0 { return nil }
            index = (index + 1) & mask
        }
    }

    subscript(key: UInt) -> Value? {
        guard let index = slot(of: key) else { return nil }
        return values[index]
    }

    func contains(_ key: UInt) -> Bool {
        slot(of: key) != nil
    }

    /// Inserts or replaces the value of `key` (not 0).
    mutating func insert(_ key: UInt, _ value: Value) {
        precondition(key != 0, "a task address is never 0")
        if let index = slot(of: key) {
            values[index] = value
            return
        }
        // At most half full: linear probing's runs grow fast past that, and how fast depends
        // on where the allocator put the tasks (at 3/4, spawning 20,000 greenlets cost 8 %
        // more instructions after an unrelated change moved them).
        if (count + 1) * 2 > keys.count { grow() }
        place(key, value)
    }

    /// Puts `key`, known to be absent, in the first free slot of its run; the caller made room.
    private mutating func place(_ key: UInt, _ value: consuming Value) {
        var index = home(of: key)
        while keys[index] != 0 { index = (index + 1) & mask }
        keys[index] = key
        values[index] = consume value
        count += 1
    }

    /// Removes `key`; moves later entries of its probe run back so that no lookup
    /// stops early at the freed slot (no tombstones to clean up later).
    mutating func remove(_ key: UInt) {
        guard var hole = slot(of: key) else { return }
        keys[hole] = 0
        values[hole] = nil
        count -= 1
        var index = hole
        while true {
            index = (index + 1) & mask
            let moving = keys[index]
            if moving == 0 { return }
            let wanted = home(of: moving)
            // The entry may fill the hole unless its home lies cyclically in (hole, index].
            let stays = hole <= index ? (hole < wanted && wanted <= index) : (hole < wanted || wanted <= index)
            if stays { continue }
            keys[hole] = moving
            values[hole] = values[index]
            keys[index] = 0
            values[index] = nil
            hole = index
        }
    }

    /// Every value in the table, in no particular order.
    var allValues: [Value] {
        values.compactMap { $0 }
    }

    private mutating func grow() {
        let oldKeys = keys
        var oldValues = values
        keys = Array(repeating: 0, count: oldKeys.count * 2)
        values = Array(repeating: nil, count: oldKeys.count * 2)
        shift -= 1
        count = 0
        // Every key is known to be absent from the new table: placed without the lookup
        // and growth check of `insert`, and each value moved rather than copied (a copy
        // retains the greenlet and the old array's release drops it again).
        for index in oldKeys.indices where oldKeys[index] != 0 {
            place(oldKeys[index], oldValues[index].take()!)
        }
    }
}
