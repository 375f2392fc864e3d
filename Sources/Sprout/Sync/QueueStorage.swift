/// The items a queue holds, seen untyped by ``QueueCore``: its waiting paths, compiled once
/// for every item type, move items as `any Sendable` through this protocol, while the
/// queue's own put and get that need not wait, and a greenlet's hand-off, reach the typed
/// stores of ``TypedQueueStorage`` directly, specialized in the caller's module.
@Hub
protocol QueueStorage: AnyObject, Sendable {
    /// Adds `item`, which has the queue's element type.
    func insert(_ item: any Sendable)
    /// Takes the next item; only called when one is held.
    func removeNext() -> any Sendable
    /// Keeps `item`, which has the queue's element type, in transit; returns its ticket.
    func deposit(_ item: any Sendable) -> Int
    /// Takes the item in transit under `ticket`.
    func takeInTransit(_ ticket: Int) -> any Sendable
    /// Drops the item in transit under `ticket` (its putter gave up, or the queue closed).
    func drop(_ ticket: Int)
    /// Moves the item in transit under `ticket` into the buffer, behind the others.
    func moveToBuffer(_ ticket: Int)
}
