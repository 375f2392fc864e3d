import Synchronization

/// The greenlets that are running now, so teardown can kill them all.
final class GreenletRegistry: Sendable {
    static let shared = GreenletRegistry()

    private let running = Mutex<[UInt64: any Joinable]>([:])

    func add(_ id: UInt64, _ greenlet: any Joinable) {
        running.withLock { $0[id] = greenlet }
    }

    func remove(_ id: UInt64) {
        running.withLock { _ = $0.removeValue(forKey: id) }
    }

    /// The greenlets running now, in spawn order.
    func snapshot() -> [any Joinable] {
        running.withLock { running in running.sorted { $0.key < $1.key }.map(\.value) }
    }

    var count: Int { running.withLock { $0.count } }

    /// How reports name a running greenlet, or `nil` if it is not running.
    func describe(_ id: UInt64) -> String? {
        running.withLock { $0[id] }.map { "greenlet \(String(describing: $0))" }
    }
}
