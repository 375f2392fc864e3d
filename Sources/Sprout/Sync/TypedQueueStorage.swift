/// The ``QueueStorage`` of a queue whose items are `Element`s.
@usableFromInline
@Hub
final class TypedQueueStorage<Element: Sendable>: QueueStorage {
    // Hub-isolated, and no access overlaps another: no run-time exclusivity checks.
    @exclusivity(unchecked) @usableFromInline var store: ItemStore<Element>

    @usableFromInline nonisolated init(order: QueueOrder) {
        store = ItemStore(order: order)
    }

    func insert(_ item: any Sendable) { store.insert(item as! Element) }
    func removeNext() -> any Sendable { store.removeNext() }
}
