/// Every child that ``Command`` started and that still runs, so the hub's shutdown can
/// stop them (SIGTERM, then SIGKILL) rather than leave orphans behind.
@Hub
final class ChildReaper {
    static let shared = ChildReaper()

    /// Seconds a child gets between SIGTERM and SIGKILL at shutdown.
    static let grace = 2.0

    private var running: [ObjectIdentifier: ChildCommand] = [:]
    private var hook: ShutdownHook?

    func track(_ child: ChildCommand) {
        running[ObjectIdentifier(child)] = child
        if hook == nil {
            hook = Hub.onShutdown { await ChildReaper.shared.stopAll() }
        }
    }

    func forget(_ child: ChildCommand) {
        running[ObjectIdentifier(child)] = nil
    }

    private func stopAll() async {
        hook = nil
        let children = Array(running.values)
        var stopping: [Task<Void, any Error>] = []
        for child in children {
            stopping.append(startHelperTask { await child.terminate(grace: ChildReaper.grace) })
        }
        for task in stopping { _ = try? await task.value }
    }
}
