/// One of Sprout's ``QueueBuffer`` kinds, which names the order its queue hands items out
/// in: kept apart from the public protocol so that ``QueueOrder`` stays internal.
protocol OrderedQueueBuffer: QueueBuffer {
    /// The order items come out in.
    static var order: QueueOrder { get }
}
