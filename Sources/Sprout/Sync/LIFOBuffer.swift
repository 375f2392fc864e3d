/// Last in, first out: the order of ``LifoQueue``.
public struct LIFOBuffer<Element: Sendable>: QueueBuffer {
    private var items: [Element] = []

    /// An empty buffer.
    public init() {}

    public var count: Int { items.count }
    public mutating func insert(_ item: Element) { items.append(item) }
    public mutating func removeNext() -> Element { items.removeLast() }
    public var next: Element? { items.last }
}
