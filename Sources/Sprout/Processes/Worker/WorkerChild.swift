/// The process behind a ``WorkerProcess``: started by running the program again
/// (`SpawnedChild`, reaped by libuv) or forked by a fork server (``ForkedChild``).
@Hub
protocol WorkerChild: AnyObject {
    /// The process id.
    var pid: Int32 { get }
    /// Sends `signal`; does nothing once the process has ended.
    func signal(_ signal: Int32) throws(HubError)
    /// Calls `callback` on the hub when the process ends (at once if it has).
    func onExit(_ callback: @escaping (ExitStatus) -> Void)
}

extension SpawnedChild: WorkerChild {}
extension ForkedChild: WorkerChild {}
