/// Last in, first out: the kind of ``LifoQueue``.
public enum LIFOBuffer<Element: Sendable>: QueueBuffer {
    /// The order items come out in.
    public static var order: QueueOrder { .lifo }
}
