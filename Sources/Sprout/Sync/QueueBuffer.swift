/// The kind of a ``GreenletQueue``: what it carries and in which order it hands items out —
/// ``FIFOBuffer``, ``LIFOBuffer`` or ``PriorityBuffer``. These are only names for the type
/// system (they tell `Queue<Int>` from `LifoQueue<Int>`); the items live in the queue.
/// A type of your own conforming to it makes a first-in first-out queue.
public protocol QueueBuffer {
    /// What the queue carries.
    associatedtype Element: Sendable
}
