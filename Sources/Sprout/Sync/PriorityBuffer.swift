/// Smallest first: the kind of ``PriorityQueue``. Equal items come out in no particular
/// order, as with gevent's `PriorityQueue`.
public enum PriorityBuffer<Element: Sendable & Comparable>: QueueBuffer, OrderedQueueBuffer {
    /// The order items come out in.
    static var order: QueueOrder { .priority(of: Element.self) }
}
