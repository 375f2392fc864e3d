import FoundationEssentials
import Sprout

// Codable shapes that an encoder or decoder keeping keyed containers per Key type (or keys
// per chunk) could mix up: one Key type alive at several depths or twice at once, kept
// after encode(to:) returned, shared by a class and its superclass, keys made at run time,
// keys present in some items only, a throw with a container of the same Key type open.

/// The Echo jobs of these shapes.
public let keyedContainerParityJobs: [any ProcessJob.Type] = [
    Echo<ParityTree>.self, Echo<ParityExpr>.self, Echo<TwoContainersAlive>.self, Echo<NestedOfOwnKey>.self,
    Echo<KeptContainer>.self, Echo<ParityRaceCar>.self, Echo<DynamicKeys>.self, Echo<SparseKeys>.self,
    Echo<ThrowsMidContainer>.self,
]

/// A tree of itself: its CodingKeys container is open at every level at once.
public final class ParityTree: Codable, Sendable {
    public let value: Int
    public let children: [ParityTree]
    public let left: ParityTree?
    public let byName: [String: ParityTree]
    public init(depth: Int, seed: Int) {
        value = seed
        children = depth == 0 ? [] : (0..<(seed % 3)).map { ParityTree(depth: depth - 1, seed: seed * 7 + $0) }
        left = depth > 0 && seed % 2 == 0 ? ParityTree(depth: depth - 1, seed: seed + 1) : nil
        byName = depth > 0 && seed % 4 == 1 ? ["k\(seed)": ParityTree(depth: depth - 1, seed: seed + 3)] : [:]
    }
}

/// Enum cases holding the enum again: the synthesized per-case Key type (`AddCodingKeys`)
/// is open at several depths at once.
public indirect enum ParityExpr: Codable, Sendable {
    case num(Int)
    case add(ParityExpr, ParityExpr)
    case neg(ParityExpr)
    case call(name: String, args: [ParityExpr], note: String?)
    case unit
    public static func make(_ n: Int) -> ParityExpr {
        switch n % 5 {
        case 0: .num(n)
        case 1: n < 3 ? .unit : .add(make(n / 2), make(n / 3))
        case 2: .neg(n < 5 ? .num(-n) : make(n - 3))
        case 3: .call(name: "f\(n)", args: n < 4 ? [] : [make(n / 2), .num(n), make(n - 4)], note: n % 2 == 0 ? nil : "n\(n)")
        default: .unit
        }
    }
}

/// Two containers of one Key type from the same encoder (and decoder), used in turn.
public struct TwoContainersAlive: Codable, Sendable {
    public var a: Int, b: String, c: [Int]
    enum Key: String, CodingKey { case a, b, c }
    public init(a: Int, b: String, c: [Int]) { self.a = a; self.b = b; self.c = c }
    public func encode(to encoder: any Encoder) throws {
        var one = encoder.container(keyedBy: Key.self)
        var two = encoder.container(keyedBy: Key.self)
        try one.encode(a, forKey: .a)
        try two.encode(b, forKey: .b)
        try one.encode(c, forKey: .c)
    }
    public init(from decoder: any Decoder) throws {
        let one = try decoder.container(keyedBy: Key.self)
        let two = try decoder.container(keyedBy: Key.self)
        c = try two.decode([Int].self, forKey: .c)
        a = try one.decode(Int.self, forKey: .a)
        b = try two.decode(String.self, forKey: .b)
    }
}

/// `nestedContainer(keyedBy:)` with the parent's own Key type, twice, both open, written in
/// turn, one nested again; read back in another order, one nested container asked for twice.
public struct NestedOfOwnKey: Codable, Sendable {
    public var x: Int, y: Int, z: String
    enum Key: String, CodingKey { case first, second, x, y, z }
    public init(x: Int, y: Int, z: String) { self.x = x; self.y = y; self.z = z }
    public func encode(to encoder: any Encoder) throws {
        var top = encoder.container(keyedBy: Key.self)
        var first = top.nestedContainer(keyedBy: Key.self, forKey: .first)
        var second = top.nestedContainer(keyedBy: Key.self, forKey: .second)
        try first.encode(x, forKey: .x)
        try second.encode(y, forKey: .y)
        var inner = first.nestedContainer(keyedBy: Key.self, forKey: .first)
        try inner.encode(z, forKey: .z)
        try top.encode(x &+ y, forKey: .x)
        try second.encode(z, forKey: .z)
    }
    public init(from decoder: any Decoder) throws {
        let top = try decoder.container(keyedBy: Key.self)
        let second = try top.nestedContainer(keyedBy: Key.self, forKey: .second)
        let first = try top.nestedContainer(keyedBy: Key.self, forKey: .first)
        y = try second.decode(Int.self, forKey: .y)
        x = try first.decode(Int.self, forKey: .x)
        z = try top.nestedContainer(keyedBy: Key.self, forKey: .first).nestedContainer(keyedBy: Key.self, forKey: .first)
            .decode(String.self, forKey: .z)
        guard try top.decode(Int.self, forKey: .x) == x &+ y, try second.decode(String.self, forKey: .z) == z else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "containers mixed up"))
        }
    }
}

/// Writes through a container after the encode(to:) that made it returned.
public struct KeptContainer: Codable, Sendable {
    public var p: Int, q: String
    enum Key: String, CodingKey { case p, q, part, tail }
    final class Stash { var container: KeyedEncodingContainer<Key>? }
    struct Part: Encodable {
        let stash: Stash
        let p: Int
        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: Key.self)
            try container.encode(p, forKey: .p)
            stash.container = container
        }
    }
    public init(p: Int, q: String) { self.p = p; self.q = q }
    public func encode(to encoder: any Encoder) throws {
        let stash = Stash()
        var top = encoder.container(keyedBy: Key.self)
        try Part(stash: stash, p: p).encode(to: top.superEncoder(forKey: .part))
        try stash.container?.encode(q, forKey: .q)
        try top.encode(p &* 2, forKey: .tail)
    }
    public init(from decoder: any Decoder) throws {
        let part = try decoder.container(keyedBy: Key.self).nestedContainer(keyedBy: Key.self, forKey: .part)
        p = try part.decode(Int.self, forKey: .p)
        q = try part.decode(String.self, forKey: .q)
    }
}

/// A class hierarchy whose levels share one Key type: the subclass's container is open while
/// its superclass writes to the same encoder; the last level nests its superclass under "super".
public class ParityVehicle: Codable, @unchecked Sendable {
    public var wheels: Int
    enum Key: String, CodingKey { case wheels, brand, seats, turbo }
    public init(wheels: Int) { self.wheels = wheels }
    public required init(from decoder: any Decoder) throws {
        wheels = try decoder.container(keyedBy: Key.self).decode(Int.self, forKey: .wheels)
    }
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Key.self)
        try container.encode(wheels, forKey: .wheels)
    }
}
public class ParityCar: ParityVehicle, @unchecked Sendable {
    public var brand: String
    public init(brand: String, wheels: Int) { self.brand = brand; super.init(wheels: wheels) }
    public required init(from decoder: any Decoder) throws {
        brand = try decoder.container(keyedBy: Key.self).decode(String.self, forKey: .brand)
        try super.init(from: decoder)
    }
    public override func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Key.self)
        try container.encode(brand, forKey: .brand)
        try super.encode(to: encoder)
        try container.encode(brand.count, forKey: .seats)
    }
}
public final class ParityRaceCar: ParityCar, @unchecked Sendable {
    public var turbo: Double?
    public init(turbo: Double?, brand: String, wheels: Int) { self.turbo = turbo; super.init(brand: brand, wheels: wheels) }
    public required init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: Key.self)
        turbo = try container.decodeIfPresent(Double.self, forKey: .turbo)
        try super.init(from: container.superDecoder())
    }
    public override func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Key.self)
        try container.encodeIfPresent(turbo, forKey: .turbo)
        try super.encode(to: container.superEncoder())
    }
}

/// A key made at run time: every item has keys of its own, nested ones too.
public struct AnyCodingKey: CodingKey {
    public var stringValue: String
    public var intValue: Int? { nil }
    public init(stringValue: String) { self.stringValue = stringValue }
    public init?(intValue: Int) { nil }
}
public struct DynamicKeys: Codable, Sendable {
    public var fields: [(name: String, value: Int)]
    public var inner: [String: DynamicKeys]
    public init(fields: [(name: String, value: Int)], inner: [String: DynamicKeys]) { self.fields = fields; self.inner = inner }
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: AnyCodingKey.self)
        for field in fields { try container.encode(field.value, forKey: AnyCodingKey(stringValue: field.name)) }
        if !inner.isEmpty {
            var nested = container.nestedContainer(keyedBy: AnyCodingKey.self, forKey: AnyCodingKey(stringValue: "$inner"))
            for (name, value) in inner { try nested.encode(value, forKey: AnyCodingKey(stringValue: name)) }
        }
    }
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: AnyCodingKey.self)
        var fields: [(name: String, value: Int)] = []
        var inner: [String: DynamicKeys] = [:]
        for key in container.allKeys {
            if key.stringValue == "$inner" {
                let nested = try container.nestedContainer(keyedBy: AnyCodingKey.self, forKey: key)
                for name in nested.allKeys { inner[name.stringValue] = try nested.decode(DynamicKeys.self, forKey: name) }
            } else {
                fields.append((key.stringValue, try container.decode(Int.self, forKey: key)))
            }
        }
        self.fields = fields.sorted { $0.name < $1.name }
        self.inner = inner
    }
}

/// Keys present in some items only, written in an order that depends on the value, read
/// with contains, decodeIfPresent and decodeNil(forKey:), out of order.
public struct SparseKeys: Codable, Sendable {
    public var a: Int?, b: String?, c: Double?, d: [Int]?, reversed: Bool
    enum Key: String, CodingKey { case a, b, c, d, reversed }
    public init(_ i: Int) {
        a = i & 1 == 0 ? nil : i
        b = i & 2 == 0 ? nil : "b\(i)"
        c = i & 4 == 0 ? nil : Double(i) / 8
        d = i & 8 == 0 ? nil : [i]
        reversed = i % 3 == 0
    }
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Key.self)
        var steps: [(inout KeyedEncodingContainer<Key>) throws -> Void] = [
            { [a] in try $0.encodeIfPresent(a, forKey: .a) },
            { [b] in try $0.encodeIfPresent(b, forKey: .b) },
            { [c] in if let c { try $0.encode(c, forKey: .c) } else { try $0.encodeNil(forKey: .c) } },
            { [d] in try $0.encodeIfPresent(d, forKey: .d) },
            { [reversed] in try $0.encode(reversed, forKey: .reversed) },
        ]
        if reversed { steps.reverse() }
        for step in steps { try step(&container) }
    }
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: Key.self)
        reversed = try container.decode(Bool.self, forKey: .reversed)
        d = container.contains(.d) ? try container.decode([Int].self, forKey: .d) : nil
        c = try container.decodeNil(forKey: .c) ? nil : try container.decode(Double.self, forKey: .c)
        b = try container.decodeIfPresent(String.self, forKey: .b)
        a = try container.decodeIfPresent(Int.self, forKey: .a)
    }
}

/// Throws with a container of its own Key type open (a nested one too), in encode(to:) when
/// `boom == 1` and in init(from:) when `boom == 2`, maybe from a child; the items after it in
/// a chunk must come out whole.
public struct ThrowsMidContainer: Codable, Sendable {
    public var a: Int, boom: Int, kids: [ThrowsMidContainer]
    enum Key: String, CodingKey { case a, boom, kids, extra }
    struct Boom: Error {}
    public init(a: Int, boom: Int, kids: [ThrowsMidContainer] = []) { self.a = a; self.boom = boom; self.kids = kids }
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Key.self)
        try container.encode(a, forKey: .a)
        var extra = container.nestedContainer(keyedBy: Key.self, forKey: .extra)
        try extra.encode("half", forKey: .a)
        try container.encode(boom, forKey: .boom)
        try container.encode(kids, forKey: .kids)
        if boom == 1 { throw Boom() }
        try extra.encode(a, forKey: .boom)
    }
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: Key.self)
        a = try container.decode(Int.self, forKey: .a)
        let extra = try container.nestedContainer(keyedBy: Key.self, forKey: .extra)
        _ = try extra.decode(String.self, forKey: .a)
        boom = try container.decode(Int.self, forKey: .boom)
        if boom == 2 { throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "boom")) }
        kids = try container.decode([ThrowsMidContainer].self, forKey: .kids)
        guard try extra.decode(Int.self, forKey: .boom) == a else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "extra"))
        }
    }
}
