/// The order a queue hands its items out in, named by its ``QueueBuffer``.
@usableFromInline
struct QueueOrder: Sendable {
    @usableFromInline enum Kind: Sendable {
        case fifo
        case lifo
        /// Smallest first, by this comparison.
        case priority(@Sendable (any Sendable, any Sendable) -> Bool)
    }

    @usableFromInline let kind: Kind

    /// First in, first out.
    static var fifo: QueueOrder { QueueOrder(kind: .fifo) }
    /// Last in, first out.
    static var lifo: QueueOrder { QueueOrder(kind: .lifo) }
    /// Smallest first, for items of type `Element`.
    static func priority<Element: Sendable & Comparable>(of _: Element.Type) -> QueueOrder {
        QueueOrder(kind: .priority { ($0 as! Element) < ($1 as! Element) })
    }
}
