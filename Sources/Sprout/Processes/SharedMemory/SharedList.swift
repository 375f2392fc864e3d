/// A list of Codable values served by the process that made it and usable from its
/// workers — multiprocessing's `Manager().list()`.
///
/// Like ``SharedDictionary``: the list lives in the parent, which serves it on the hub;
/// send it to workers inside jobs (it is `Codable`: what travels is the socket's name),
/// where each call is a request to the parent. Calls from different processes are applied
/// one at a time, so ``append(_:)`` from many workers loses nothing, and ``update(_:)`` is
/// an atomic read-modify-write of the whole list.
///
/// On the hub, calls switch greenlets while they wait; in a worker's job they block its
/// thread. A decoded copy sends one request at a time: do not call it from two tasks at once.
/// Every call throws ``ProcessChannelError`` if the owner cannot be reached.
public final class SharedList<Element: Codable & Sendable>: Codable, Sendable {
    private enum Request: Codable {
        case append([Element])
        case get(Int)
        case set(Int, Element)
        case count
        case snapshot
        case read
        case replace([Element], ifVersion: UInt64)
    }

    private struct Reply: ManagedReply {
        var element: Element?
        var all: [Element]?
        var count: Int?
        var version: UInt64?
        var applied: Bool?
        var outOfRange: Bool?
    }

    private let object: ManagedObject<[Element], Request, Reply>

    /// A list holding `elements`, served by this process from now on.
    ///
    /// - Throws: ``ProcessChannelError/system(operation:code:)`` if the socket cannot be made.
    @Hub
    public init(_ elements: [Element] = []) throws {
        object = try ManagedObject(kind: "list", initial: elements, answer: Self.answer)
    }

    /// Adds `element` at the end — `l.append(x)`.
    public func append(_ element: Element) async throws {
        _ = try await perform(.append([element]))
    }

    /// Adds `elements` at the end, all in one step — `l.extend(xs)`.
    public func append<S: Sequence>(contentsOf elements: S) async throws where S.Element == Element {
        _ = try await perform(.append(Array(elements)))
    }

    /// The element at `index` — `l[i]`; negative indices count from the end as in Python.
    ///
    /// - Throws: ``SharedListError/indexOutOfRange(_:count:)``; ``ProcessChannelError``.
    public subscript(index: Int) -> Element {
        get async throws {
            let reply = try await perform(.get(index))
            guard let element = reply.element else {
                throw SharedListError.indexOutOfRange(index, count: reply.count ?? 0)
            }
            return element
        }
    }

    /// Replaces the element at `index` — `l[i] = x` (a subscript cannot wait to write).
    ///
    /// - Throws: ``SharedListError/indexOutOfRange(_:count:)``; ``ProcessChannelError``.
    public func set(_ index: Int, _ element: Element) async throws {
        let reply = try await perform(.set(index, element))
        if reply.outOfRange == true { throw SharedListError.indexOutOfRange(index, count: reply.count ?? 0) }
    }

    /// How many elements there are — `len(l)`.
    public var count: Int {
        get async throws { try await perform(.count).count ?? 0 }
    }

    /// A copy of the whole list — `list(l)`.
    public func snapshot() async throws -> [Element] {
        try await perform(.snapshot).all ?? []
    }

    /// Lets `body` change the whole list and stores the result as one atomic step (no
    /// other process's change in between is lost). In the owner `body` runs once under the
    /// list's lock; in a worker it may run again if another process changed the list
    /// meanwhile, so keep it free of side effects.
    ///
    /// - Returns: what `body` returns.
    /// - Throws: what `body` throws (nothing is stored then); ``ProcessChannelError``.
    @discardableResult
    public nonisolated(nonsending) func update<R>(_ body: (inout [Element]) throws -> R) async throws -> R {
        try await object.update(\.self, read: .read, value: { $0.all ?? [] },
                                replace: { .replace($0, ifVersion: $1) }, body)
    }

    private func perform(_ request: Request) async throws -> Reply {
        try await object.perform(request)
    }

    /// Encodes the name of the socket the owner serves on.
    public func encode(to encoder: any Encoder) throws {
        try object.encode(to: encoder)
    }

    /// Connects to the list's owner.
    ///
    /// - Throws: ``ProcessChannelError`` if the owner cannot be reached.
    public init(from decoder: any Decoder) throws {
        object = try ManagedObject(from: decoder)
    }

    /// `index` as a position in a list of `count`, counting negative ones from the end.
    private static func position(_ index: Int, count: Int) -> Int? {
        let position = index < 0 ? count + index : index
        return (0..<count).contains(position) ? position : nil
    }

    private static func answer(_ request: Request, store: ManagedState<[Element]>) -> Reply {
        switch request {
        case .append(let elements):
            store.change { $0.append(contentsOf: elements) }
            return Reply()
        case .get(let index):
            return store.read { list in
                Reply(element: position(index, count: list.count).map { list[$0] }, count: list.count)
            }
        case .set(let index, let element):
            return store.change { list in
                guard let position = position(index, count: list.count) else { return Reply(count: list.count, outOfRange: true) }
                list[position] = element
                return Reply()
            }
        case .count:
            return Reply(count: store.read { $0.count })
        case .snapshot:
            return Reply(all: store.read { $0 })
        case .read:
            let (elements, version) = store.readVersioned { $0 }
            return Reply(all: elements, version: version)
        case .replace(let elements, let version):
            return Reply(applied: store.change(ifVersion: version) { $0 = elements })
        }
    }
}
