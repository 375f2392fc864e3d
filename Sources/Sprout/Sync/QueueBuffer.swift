/// The order a ``GreenletQueue`` hands its items out in: ``FIFOBuffer``, ``LIFOBuffer`` or
/// ``PriorityBuffer``.
public protocol QueueBuffer {
    /// What the queue holds.
    associatedtype Element: Sendable
    /// An empty buffer.
    init()
    /// How many items are held.
    var count: Int { get }
    /// Adds an item.
    mutating func insert(_ item: Element)
    /// Removes and returns the item to hand out next; only called when `count > 0`.
    mutating func removeNext() -> Element
    /// The item ``removeNext()`` would return, without removing it.
    var next: Element? { get }
}
