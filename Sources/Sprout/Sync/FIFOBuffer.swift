/// First in, first out: the order of ``Queue``.
public struct FIFOBuffer<Element: Sendable>: QueueBuffer {
    private var items: [Element] = []
    private var head = 0

    /// An empty buffer.
    public init() {}

    public var count: Int { items.count - head }

    public mutating func insert(_ item: Element) { items.append(item) }

    public mutating func removeNext() -> Element {
        let item = items[head]
        head += 1
        if head == items.count {
            items.removeAll(keepingCapacity: true)
            head = 0
        } else if head >= 1024, head * 2 >= items.count {
            // Drop the consumed prefix only when it dominates, so removal stays amortized O(1).
            items.removeFirst(head)
            head = 0
        }
        return item
    }

    public var next: Element? { head < items.count ? items[head] : nil }
}
