/// The items a queue holds, seen untyped by ``QueueCore``: its waiting paths, compiled once
/// for every item type, move items as `any Sendable` through this protocol, while the
/// queue's own put and get that need not wait reach the typed store of
/// ``TypedQueueStorage`` directly, specialized in the caller's module.
@Hub
protocol QueueStorage: AnyObject, Sendable {
    /// Adds `item`, which has the queue's element type.
    func insert(_ item: any Sendable)
    /// Takes the next item; only called when one is held.
    func removeNext() -> any Sendable
}
