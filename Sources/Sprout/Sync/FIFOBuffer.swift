/// First in, first out: the kind of ``Queue``.
public enum FIFOBuffer<Element: Sendable>: QueueBuffer {
    public static var order: QueueOrder { .fifo }
}
