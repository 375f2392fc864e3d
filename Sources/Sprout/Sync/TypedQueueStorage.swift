/// The ``QueueStorage`` of a queue whose items are `Element`s.
@usableFromInline
@Hub
final class TypedQueueStorage<Element: Sendable>: QueueStorage {
    // Hub-isolated, and no access overlaps another: no run-time exclusivity checks.
    @exclusivity(unchecked) @usableFromInline var store: ItemStore<Element>
    /// Items on their way to or from a parked greenlet.
    @exclusivity(unchecked) @usableFromInline var transit = TransitItems<Element>()

    @usableFromInline nonisolated init(order: QueueOrder) {
        store = ItemStore(order: order)
    }

    func insert(_ item: any Sendable) { store.insert(item as! Element) }
    func removeNext() -> any Sendable { store.removeNext() }
    func deposit(_ item: any Sendable) -> Int { transit.deposit(item as! Element) }
    func takeInTransit(_ ticket: Int) -> any Sendable { transit.take(ticket) }
    func drop(_ ticket: Int) { _ = transit.take(ticket) }
    func moveToBuffer(_ ticket: Int) { store.insert(transit.take(ticket)) }
}
