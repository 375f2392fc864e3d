/// The items a queue holds, in its ``QueueOrder``: ``ItemBlocks`` for FIFO, an array used as
/// a stack for LIFO and as a binary min-heap for priority.
///
/// Typed and inlinable, so a queue's put and get that need not wait are specialized for
/// the item type in the caller's module: no existential box, no dynamic cast per item.
@usableFromInline
struct ItemStore<Element: Sendable>: ~Copyable, Sendable {
    @usableFromInline let order: QueueOrder.Kind
    /// A FIFO queue's items.
    @usableFromInline var fifo = ItemBlocks<Element>()
    /// A LIFO or priority queue's items.
    @usableFromInline var items: [Element] = []

    @usableFromInline init(order: QueueOrder) {
        self.order = order.kind
    }

    // One of the two is always empty: no need to look at the order.
    @inlinable var count: Int { fifo.count + items.count }

    /// The item ``removeNext()`` would return.
    var next: Element? {
        guard count > 0 else { return nil }
        switch order {
        case .fifo: return fifo.first
        case .lifo: return items.last
        case .priority: return items.first
        }
    }

    @inlinable mutating func insert(_ item: Element) {
        switch order {
        case .fifo:
            fifo.append(item)
        case .lifo:
            items.append(item)
        case .priority(let less):
            items.append(item)
            siftUp(items.count - 1, less)
        }
    }

    /// Removes the next item; only called when `count > 0`.
    @inlinable mutating func removeNext() -> Element {
        switch order {
        case .fifo:
            return fifo.removeFirst()
        case .lifo:
            return items.removeLast()
        case .priority(let less):
            items.swapAt(0, items.count - 1)
            let item = items.removeLast()
            siftDown(0, less)
            return item
        }
    }

    @usableFromInline mutating func siftUp(_ index: Int, _ less: (any Sendable, any Sendable) -> Bool) {
        var child = index
        while child > 0 {
            let parent = (child - 1) / 2
            guard less(items[child], items[parent]) else { break }
            items.swapAt(child, parent)
            child = parent
        }
    }

    @usableFromInline mutating func siftDown(_ index: Int, _ less: (any Sendable, any Sendable) -> Bool) {
        var parent = index
        while true {
            let left = 2 * parent + 1, right = left + 1
            var smallest = parent
            if left < items.count, less(items[left], items[smallest]) { smallest = left }
            if right < items.count, less(items[right], items[smallest]) { smallest = right }
            if smallest == parent { return }
            items.swapAt(parent, smallest)
            parent = smallest
        }
    }
}
