/// Smallest first (a binary min-heap): the order of ``PriorityQueue``. Equal items come
/// out in no particular order, as with gevent's `PriorityQueue`.
public struct PriorityBuffer<Element: Sendable & Comparable>: QueueBuffer {
    private var heap: [Element] = []

    /// An empty buffer.
    public init() {}

    public var count: Int { heap.count }
    public var next: Element? { heap.first }

    public mutating func insert(_ item: Element) {
        heap.append(item)
        var child = heap.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard heap[child] < heap[parent] else { break }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    public mutating func removeNext() -> Element {
        heap.swapAt(0, heap.count - 1)
        let item = heap.removeLast()
        var parent = 0
        while true {
            let left = 2 * parent + 1, right = left + 1
            var smallest = parent
            if left < heap.count, heap[left] < heap[smallest] { smallest = left }
            if right < heap.count, heap[right] < heap[smallest] { smallest = right }
            if smallest == parent { break }
            heap.swapAt(parent, smallest)
            parent = smallest
        }
        return item
    }
}
