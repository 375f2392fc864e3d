import Glibc

/// A worker asked of a fork server (``ForkServerConnection``). The hub never waits for the
/// server's answer, so the process behind a request is known only later: forked by the
/// server (a ``ForkedChild``), or, when the server cannot fork, is found dead or is stuck,
/// the program run again with the same descriptors (a `SpawnedChild`). Until then its pid
/// is 0, a signal sent to it is held, and exit callbacks wait for the process. Hub-thread only.
@Hub
final class RequestedChild: WorkerChild {
    /// The process once known.
    private(set) var process: (any WorkerChild)?
    /// How it ended without any process (nothing could be started, or it was killed first).
    private var endStatus: ExitStatus?
    /// The strongest signal sent while no process was known (SIGKILL wins over the rest).
    private var heldSignal: Int32?
    private var exitCallbacks: [(ExitStatus) -> Void] = []
    private let executable: String
    private let environment: [String]
    /// This side's copies of the worker's stdout, stderr, channel and descriptor channel,
    /// for running the program again; closed once the process is known.
    private var descriptors: [Int32]

    /// The process id, or 0 while the server has not answered.
    var pid: Int32 { process?.pid ?? 0 }

    /// A request for a worker of `executable` with `environment` as its whole environment and
    /// `descriptors` (stdout, stderr, channel, descriptor channel) as its own.
    ///
    /// - Throws: ``HubError`` if the descriptors cannot be duplicated.
    init(executable: String, environment: [String], descriptors: [Int32]) throws(HubError) {
        var copies: [Int32] = []
        for fd in descriptors {
            let copy = fcntl(fd, F_DUPFD_CLOEXEC, 0)
            guard copy >= 0 else {
                let code = errno
                for copy in copies { close(copy) }
                throw HubError(code: -code, operation: "keep a worker's descriptors for its start")
            }
            copies.append(copy)
        }
        self.executable = executable
        self.environment = environment
        self.descriptors = copies
    }

    /// Sends `signal` to the process, or holds it until the process is known; does nothing
    /// once it has ended.
    ///
    /// - Throws: ``HubError`` if the signal cannot be sent.
    func signal(_ signal: Int32) throws(HubError) {
        if let process { return try process.signal(signal) }
        guard endStatus == nil, heldSignal != SIGKILL else { return }
        heldSignal = signal
    }

    /// Calls `callback` on the hub when the process ends (at once if it has).
    func onExit(_ callback: @escaping (ExitStatus) -> Void) {
        if let process { return process.onExit(callback) }
        if let endStatus { return callback(endStatus) }
        exitCallbacks.append(callback)
    }

    /// True until the process is known or the request has ended.
    var isPending: Bool { process == nil && endStatus == nil }

    /// The server forked the worker.
    func forked(_ child: ForkedChild) {
        guard isPending else { return }
        become(child)
    }

    /// The server cannot fork the worker: the program is run again instead, unless the
    /// worker was killed meanwhile.
    func runAgain() {
        guard isPending else { return }
        if let heldSignal, heldSignal == SIGKILL || heldSignal == SIGTERM {
            return end(.signaled(heldSignal))
        }
        var spec = ChildSpec(executable: executable)
        spec.environment = environment
        spec.stdio = [.ignore] + descriptors.map { .inherit($0) }
        do {
            become(try SpawnedChild(spec))
        } catch {
            // The shell's code for a program that cannot be run.
            end(.exited(127))
        }
    }

    /// No process will run for this request (a worker the server may have forked could not
    /// be ruled out, so its descriptors must not be given to another).
    func abandon() {
        guard isPending else { return }
        end(.exited(127))
    }

    private func become(_ child: any WorkerChild) {
        closeDescriptors()
        process = child
        if let heldSignal { try? child.signal(heldSignal) }
        let callbacks = exitCallbacks
        exitCallbacks = []
        for callback in callbacks { child.onExit(callback) }
    }

    private func end(_ status: ExitStatus) {
        closeDescriptors()
        endStatus = status
        let callbacks = exitCallbacks
        exitCallbacks = []
        for callback in callbacks { callback(status) }
    }

    private func closeDescriptors() {
        for fd in descriptors { close(fd) }
        descriptors = []
    }
}
