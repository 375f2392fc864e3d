/// Last in, first out: the kind of ``LifoQueue``.
public enum LIFOBuffer<Element: Sendable>: QueueBuffer, OrderedQueueBuffer {
    /// The order items come out in.
    static var order: QueueOrder { .lifo }
}
