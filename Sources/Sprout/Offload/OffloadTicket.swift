import Synchronization

/// Lets a queued ``offloadBlocking(_:)`` call be skipped once its greenlet stopped waiting.
final class OffloadTicket: Sendable {
    private let abandoned = Atomic<Bool>(false)

    var isAbandoned: Bool { abandoned.load(ordering: .acquiring) }

    func abandon() { abandoned.store(true, ordering: .releasing) }
}
