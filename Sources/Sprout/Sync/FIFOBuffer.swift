/// First in, first out: the kind of ``Queue``.
public enum FIFOBuffer<Element: Sendable>: QueueBuffer {
    /// The order items come out in.
    public static var order: QueueOrder { .fifo }
}
