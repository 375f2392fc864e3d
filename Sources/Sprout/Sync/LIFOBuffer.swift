/// Last in, first out: the kind of ``LifoQueue``.
public enum LIFOBuffer<Element: Sendable>: QueueBuffer {
    public static var order: QueueOrder { .lifo }
}
