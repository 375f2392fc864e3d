import FoundationEssentials

/// The types the streaming JSON coder (``StreamingJSONEncoder``, ``StreamingJSONDecoder``)
/// sorts values by before it casts: a job is mostly structs around a few plain values, and
/// each failed cast of a struct to a concrete type is a runtime call, so one table lookup
/// decides which of them to try at all.
enum JSONScalarTypes {
    /// How the streaming coder treats a type.
    enum Kind {
        /// Numbers, strings and booleans, which the streaming coder writes and reads itself.
        case plain
        /// Types `JSONEncoder` gives a form of their own (base64, dates, URL strings), which
        /// the streaming coder leaves to Foundation.
        case foundation
    }

    /// How the streaming coder treats `type`: `nil` for any other type, a container (a
    /// struct, an array, ...). One probe of a small table keyed by the type's identity, so a
    /// struct — most jobs — costs a few instructions, not a dictionary's hashing.
    static func kind(of type: Any.Type) -> Kind? {
        let key = UInt(bitPattern: ObjectIdentifier(type))
        return table.withUnsafeBufferPointer { slots in
            var slot = slotIndex(key)
            while let entry = slots[slot] {
                if entry.key == key { return entry.kind }
                slot = (slot + 1) & (slotCount - 1)
            }
            return nil
        }
    }

    /// Slots of the table: a power of two, at least four times the types it holds, so a
    /// miss meets an empty slot after a probe or two.
    private static let slotCount = 128

    private static func slotIndex(_ key: UInt) -> Int {
        // Type metadata is aligned: the low bits say nothing.
        Int(truncatingIfNeeded: (key >> 4) ^ (key >> 11)) & (slotCount - 1)
    }

    /// The types of either kind, open-addressed by ``slotIndex(_:)``.
    private static let table: [(key: UInt, kind: Kind)?] = {
        let kinds: [(Any.Type, Kind)] = [
            (String.self, .plain), (Int.self, .plain), (Bool.self, .plain), (Double.self, .plain), (Float.self, .plain),
            (Int8.self, .plain), (Int16.self, .plain), (Int32.self, .plain), (Int64.self, .plain),
            (UInt.self, .plain), (UInt8.self, .plain), (UInt16.self, .plain), (UInt32.self, .plain), (UInt64.self, .plain),
            (Data.self, .foundation), (Date.self, .foundation), (URL.self, .foundation), (Decimal.self, .foundation),
        ]
        var table: [(key: UInt, kind: Kind)?] = Array(repeating: nil, count: slotCount)
        for (type, kind) in kinds {
            let key = UInt(bitPattern: ObjectIdentifier(type))
            var slot = slotIndex(key)
            while table[slot] != nil { slot = (slot + 1) & (slotCount - 1) }
            table[slot] = (key, kind)
        }
        return table
    }()
}
