/// A set of greenlets handled together — gevent's `Group`: finished greenlets leave it by
/// themselves, ``join(timeout:raiseError:)-(Double?,_)`` waits for all, ``kill(block:timeout:)-(_,Double?)`` kills all.
///
/// ```swift
/// let group = Group()
/// for url in urls { group.spawn { try await fetch(url) } }
/// try await group.join(timeout: 10)
/// ```
/// For a group that cannot outlive a scope, see ``withGroup(_:)``.
@Hub
public final class Group: Sendable {
    private var members: [ObjectIdentifier: any Joinable] = [:]
    private var order: [ObjectIdentifier] = []

    /// An empty group.
    public nonisolated init() {}

    /// How many greenlets are in the group (running ones; finished ones leave).
    public var count: Int { members.count }

    /// The greenlets in the group, in the order they were added.
    public var greenlets: [any Joinable] {
        order = order.filter { members[$0] != nil }
        return order.compactMap { members[$0] }
    }

    /// True if `item` is in the group.
    public func contains(_ item: some Joinable) -> Bool {
        members[ObjectIdentifier(item)] != nil
    }

    /// Adds a running greenlet (or process job); it leaves the group when it finishes.
    public func add(_ item: some Joinable) {
        let key = ObjectIdentifier(item)
        guard members[key] == nil, !item.isReady else { return }
        members[key] = item
        order.append(key)
        item.onDone { [self] in remove(key) }
    }

    /// Removes `item` from the group without touching it.
    public func discard(_ item: some Joinable) {
        remove(ObjectIdentifier(item))
    }

    private func remove(_ key: ObjectIdentifier) {
        members[key] = nil
        if members.isEmpty { order.removeAll(keepingCapacity: true) }
    }

    /// Spawns `body` as a greenlet in the group — gevent's `Group.spawn`.
    @discardableResult
    public func spawn<Value: Sendable>(
        name: String? = nil,
        file: StaticString = #fileID,
        line: UInt = #line,
        _ body: @escaping @Hub @Sendable () async throws -> Value
    ) -> Greenlet<Value> {
        let greenlet = Sprout.spawn(name: name, file: file, line: line, body)
        add(greenlet)
        return greenlet
    }

    /// Waits until the group is empty, including greenlets added meanwhile.
    ///
    /// - Parameters:
    ///   - timeout: give up after this many seconds (`nil`: no limit).
    ///   - raiseError: throw the first error a member ends with (not a kill's ``GreenletExit``).
    /// - Returns: `true` if the group emptied, `false` on timeout.
    /// - Throws: with `raiseError`, that error; `CancellationError` if the waiting greenlet is killed.
    @discardableResult
    public func join(timeout: Double? = nil, raiseError: Bool = false) async throws -> Bool {
        let deadline = Deadline(timeout: timeout)
        while !members.isEmpty {
            if deadline?.hasPassed == true { return false }
            try await joinAll(greenlets, timeout: deadline?.secondsLeft, raiseError: raiseError)
        }
        return true
    }

    /// Kills every greenlet in the group and, unless `block` is false, waits up to
    /// `timeout` seconds for them to finish — gevent's `Group.kill`.
    ///
    /// - Returns: `true` if the group is empty afterwards.
    /// - Throws: `CancellationError` if the killing greenlet is itself killed while waiting.
    @discardableResult
    public func kill(block: Bool = true, timeout: Double? = nil) async throws -> Bool {
        for member in greenlets { member.cancel() }
        guard block else { return members.isEmpty }
        return try await join(timeout: timeout)
    }
}
