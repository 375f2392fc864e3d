/// The kind of a ``GreenletQueue``: what it carries and in which order it hands items out —
/// ``FIFOBuffer``, ``LIFOBuffer`` or ``PriorityBuffer``. These are only names for the type
/// system; the items live in the queue.
public protocol QueueBuffer {
    /// What the queue carries.
    associatedtype Element: Sendable
    /// The order items come out in.
    static var order: QueueOrder { get }
}
