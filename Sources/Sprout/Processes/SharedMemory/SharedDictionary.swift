/// A dictionary of Codable values served by the process that made it and usable from its
/// workers — multiprocessing's `Manager().dict()`.
///
/// The dictionary lives in the parent, which serves it on the hub over a Unix socket of the
/// abstract namespace. Send it to workers inside jobs (it is `Codable`: what travels is the
/// socket's name); in a worker, each call is a request to the parent. Calls from different
/// processes are applied one at a time, in the order the parent receives them;
/// ``update(_:_:)`` is an atomic read-modify-write (`d[k] += 1` in Python is not).
///
/// On the hub, calls switch greenlets while they wait; in a worker's job they block its
/// thread. A decoded copy sends one request at a time: do not call it from two tasks at once.
/// Every call throws ``ProcessChannelError`` if the owner cannot be reached.
public final class SharedDictionary<Key: Codable & Hashable & Sendable, Value: Codable & Sendable>: Codable, Sendable {
    private enum Request: Codable {
        case get(Key)
        case set(Key, Value)
        case remove(Key)
        case snapshot
        case keys
        case count
        case read(Key)
        case replace(Key, Value?, ifVersion: UInt64)
    }

    private struct Reply: ManagedReply {
        var value: Value?
        var all: [Key: Value]?
        var keys: [Key]?
        var count: Int?
        var version: UInt64?
        var applied: Bool?
    }

    private let object: ManagedObject<[Key: Value], Request, Reply>

    /// An empty dictionary, served by this process from now on.
    ///
    /// - Throws: ``ProcessChannelError/system(operation:code:)`` if the socket cannot be made.
    @Hub
    public init() throws {
        object = try ManagedObject(kind: "dict", initial: [:], answer: Self.answer)
    }

    /// The value for `key`, or `nil` — `d.get(k)`.
    public func get(_ key: Key) async throws -> Value? {
        try await perform(.get(key)).value
    }

    /// The value for `key`, or `nil` — `d[k]` (read only: set with ``set(_:_:)``, since a
    /// subscript cannot wait to write).
    public subscript(key: Key) -> Value? {
        get async throws { try await get(key) }
    }

    /// Sets the value for `key` — `d[k] = v`.
    public func set(_ key: Key, _ value: Value) async throws {
        _ = try await perform(.set(key, value))
    }

    /// Removes `key`; returns the value it had — `d.pop(k, None)`.
    @discardableResult
    public func remove(_ key: Key) async throws -> Value? {
        try await perform(.remove(key)).value
    }

    /// A copy of the whole dictionary — `dict(d)`.
    public func snapshot() async throws -> [Key: Value] {
        try await perform(.snapshot).all ?? [:]
    }

    /// The keys, in no particular order — `d.keys()`.
    public var keys: [Key] {
        get async throws { try await perform(.keys).keys ?? [] }
    }

    /// How many entries there are — `len(d)`.
    public var count: Int {
        get async throws { try await perform(.count).count ?? 0 }
    }

    /// Reads the value for `key` (`nil` if absent), lets `body` change it (setting `nil`
    /// removes the key), and stores the result as one atomic step: no other process's
    /// change in between is lost. In the owner `body` runs once under the dictionary's
    /// lock; in a worker it may run again if another process changed the dictionary
    /// meanwhile, so keep it free of side effects.
    ///
    /// ```swift
    /// try await hits.update("home") { $0 = ($0 ?? 0) + 1 }
    /// ```
    ///
    /// - Returns: what `body` returns.
    /// - Throws: what `body` throws (nothing is stored then); ``ProcessChannelError``.
    @discardableResult
    public nonisolated(nonsending) func update<R>(_ key: Key, _ body: (inout Value?) throws -> R) async throws -> R {
        try await object.update(\.[key], read: .read(key), value: \.value,
                                replace: { .replace(key, $0, ifVersion: $1) }, body)
    }

    private func perform(_ request: Request) async throws -> Reply {
        try await object.perform(request)
    }

    /// Encodes the name of the socket the owner serves on.
    public func encode(to encoder: any Encoder) throws {
        try object.encode(to: encoder)
    }

    /// Connects to the dictionary's owner.
    ///
    /// - Throws: ``ProcessChannelError`` if the owner cannot be reached.
    public init(from decoder: any Decoder) throws {
        object = try ManagedObject(from: decoder)
    }

    private static func answer(_ request: Request, store: ManagedState<[Key: Value]>) -> Reply {
        switch request {
        case .get(let key):
            return Reply(value: store.read { $0[key] })
        case .set(let key, let value):
            store.change { $0[key] = value }
            return Reply()
        case .remove(let key):
            return Reply(value: store.change { $0.removeValue(forKey: key) })
        case .snapshot:
            return Reply(all: store.read { $0 })
        case .keys:
            return Reply(keys: store.read { Array($0.keys) })
        case .count:
            return Reply(count: store.read { $0.count })
        case .read(let key):
            let (value, version) = store.readVersioned { $0[key] }
            return Reply(value: value, version: version)
        case .replace(let key, let value, let version):
            return Reply(applied: store.change(ifVersion: version) { $0[key] = value })
        }
    }
}
