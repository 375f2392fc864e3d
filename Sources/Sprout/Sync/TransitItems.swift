import DequeModule

/// A queue's items on their way between two greenlets, each kept under a ticket: a parked
/// putter's item until a getter takes it, and an item handed to a parked getter until that
/// getter runs again. ``QueueCore`` moves only the tickets, so an item stays typed from
/// put to get: a hand-off costs no existential box and no dynamic cast.
///
/// Tickets are taken almost always in the order they were given (wait lists are first come,
/// first served, and woken greenlets run in the order they were woken), so the one asked
/// for is nearly always the first; one taken out of order leaves no hole behind.
@usableFromInline
struct TransitItems<Element: Sendable>: Sendable {
    @usableFromInline var entries = Deque<(ticket: Int, item: Element)>()
    @usableFromInline var nextTicket = 0

    @usableFromInline init() {}

    /// Keeps `item` until its ticket is taken; returns the ticket.
    @inlinable
    mutating func deposit(_ item: Element) -> Int {
        let ticket = nextTicket
        nextTicket &+= 1
        entries.append((ticket, item))
        return ticket
    }

    /// The item kept under `ticket`, which is no longer kept.
    @inlinable
    mutating func take(_ ticket: Int) -> Element {
        if entries.first?.ticket == ticket { return entries.removeFirst().item }
        return takeOutOfOrder(ticket)
    }

    @usableFromInline
    mutating func takeOutOfOrder(_ ticket: Int) -> Element {
        guard let index = entries.firstIndex(where: { $0.ticket == ticket }) else {
            preconditionFailure("Sprout: a queue's item in transit was taken twice")
        }
        return entries.remove(at: index).item
    }
}
