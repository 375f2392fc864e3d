extension GreenletQueue {
    /// Puts `item` from any thread — a thread-pool thread, a C callback — without waiting.
    ///
    /// The item reaches the queue on the hub's next turn, in call order: it goes to a
    /// waiting getter or into the buffer, or, if the queue is full, it waits (without any
    /// greenlet) behind the parked putters. An item that reaches a closed queue, or is
    /// still waiting for room when the queue is closed, is dropped with a report on
    /// standard error. From hub code use ``put(_:timeout:)-(_,Double?)``, which the compiler requires
    /// there anyway: the rest of the queue is hub-isolated.
    public nonisolated func putFromAnyThread(_ item: Element) {
        Hub.later { [core] in core.putDetached(item) }
    }
}
