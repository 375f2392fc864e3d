/// First in, first out: the kind of ``Queue``.
public enum FIFOBuffer<Element: Sendable>: QueueBuffer, OrderedQueueBuffer {
    /// The order items come out in.
    static var order: QueueOrder { .fifo }
}
