import CLibuv

import Glibc

/// What a child's file descriptor `i` is connected to.
package enum ChildStdio: Sendable {
    /// Nothing (`/dev/null`-like: closed in the child).
    case ignore
    /// The parent's descriptor of this number, shared with the child.
    case inherit(Int32)
}

/// What to start.
package struct ChildSpec: Sendable {
    package var executable: String
    /// Arguments after the program name.
    package var arguments: [String] = []
    /// The whole environment as `NAME=value`; `nil` inherits the parent's.
    package var environment: [String]?
    package var workingDirectory: String?
    /// Descriptors 0, 1, 2, ... of the child.
    package var stdio: [ChildStdio] = [.inherit(0), .inherit(1), .inherit(2)]
    /// Starts the child in a process group of its own, so a terminal's Ctrl-C does not reach it.
    package var newProcessGroup = false

    package init(executable: String) {
        self.executable = executable
    }
}

/// A child process started with `uv_spawn`: libuv owns SIGCHLD for the whole process,
/// so every child Sprout starts goes through here. Hub-thread only.
@Hub
package final class SpawnedChild {
    /// The child's process id.
    package private(set) var pid: Int32 = 0
    private let handle: UnsafeMutablePointer<uv_process_t>
    private var status: ExitStatus?
    private var waiters: [Waiter<ExitStatus>] = []
    private var exitCallbacks: [(ExitStatus) -> Void] = []

    /// Starts `spec`.
    ///
    /// - Throws: ``HubError`` if the child cannot be started (no such file, permission).
    package init(_ spec: ChildSpec) throws(HubError) {
        handle = .allocate(capacity: 1)
        handle.initialize(to: uv_process_t())
        var options = uv_process_options_t()
        var stdio = spec.stdio.map { slot -> uv_stdio_container_t in
            var container = uv_stdio_container_t()
            switch slot {
            case .ignore:
                container.flags = UV_IGNORE
            case .inherit(let fd):
                container.flags = UV_INHERIT_FD
                container.data.fd = fd
            }
            return container
        }
        let argv = ([spec.executable] + spec.arguments).map { strdup($0) } + [nil]
        let envp = spec.environment.map { $0.map { strdup($0) } + [nil] }
        let cwd = spec.workingDirectory.map { strdup($0) }
        defer {
            argv.forEach { free($0) }
            envp?.forEach { free($0) }
            cwd.map { free($0) }
        }
        let rc: Int32 = spec.executable.withCString { file in
            argv.withUnsafeBufferPointer { argvBuffer in
                stdio.withUnsafeMutableBufferPointer { stdioBuffer in
                    options.file = file
                    options.args = UnsafeMutablePointer(mutating: argvBuffer.baseAddress)
                    options.stdio = stdioBuffer.baseAddress
                    options.stdio_count = Int32(stdioBuffer.count)
                    options.cwd = UnsafePointer(cwd ?? nil)
                    options.flags = spec.newProcessGroup ? UV_PROCESS_DETACHED.rawValue : 0
                    options.exit_cb = { handle, exitStatus, termSignal in
                        let child = Unmanaged<SpawnedChild>.fromOpaque(handle!.pointee.data).takeUnretainedValue()
                        let status: ExitStatus = termSignal != 0 ? .signaled(termSignal) : .exited(Int32(exitStatus))
                        Hub.assumeIsolated { child.exited(status) }
                    }
                    handle.pointee.data = Unmanaged.passUnretained(self).toOpaque()
                    if let envp {
                        return envp.withUnsafeBufferPointer { envBuffer in
                            options.env = UnsafeMutablePointer(mutating: envBuffer.baseAddress)
                            return uv_spawn(LoopExecutor.shared.loop, handle, &options)
                        }
                    }
                    return uv_spawn(LoopExecutor.shared.loop, handle, &options)
                }
            }
        }
        if rc != 0 {
            // libuv initialised the handle even on failure and wants it closed.

            closeHandle(handle)
            throw HubError(code: rc, operation: "spawn \(spec.executable)")
        }
        pid = handle.pointee.pid
        // The process keeps itself alive; the object is released once the exit is seen.
        _ = Unmanaged.passRetained(self)
    }

    /// How the child ended, or `nil` while it runs.
    package var exitStatus: ExitStatus? { status }

    /// Waits until the child exits or `timeout` seconds pass.
    ///
    /// - Returns: the exit status, or `nil` on timeout.
    /// - Throws: `CancellationError` if the waiting greenlet is killed.
    package func wait(timeout: Double? = nil) async throws -> ExitStatus? {
        if let status { return status }
        let waiter = Waiter<ExitStatus>()
        // The exit may be seen while the task hops to park (a task that is not a
        // greenlet): the registration checks again rather than wait for a wake that came.
        let wake = await park(waiter, timeout: timeout) { waiter in
            if let status {
                waiter.wake(with: status)
            } else {
                waiters.append(waiter)
            }
        }
        switch wake {
        case .value(let status): return status
        case .timedOut:
            waiters.removeAll { $0 === waiter }
            return nil
        case .cancelled:
            waiters.removeAll { $0 === waiter }
            throw CancellationError()
        }
    }

    /// Calls `callback` on the hub when the child exits (at once if it has).
    package func onExit(_ callback: @escaping (ExitStatus) -> Void) {
        if let status { callback(status); return }
        exitCallbacks.append(callback)
    }

    /// Sends `signal` to the child; does nothing once it has exited.
    ///
    /// - Throws: ``HubError`` if the signal cannot be sent.
    package func signal(_ signal: Int32) throws(HubError) {
        guard status == nil else { return }
        let rc = uv_process_kill(handle, signal)
        if rc != 0 && rc != Int32(UV_ESRCH.rawValue) {
            throw HubError(code: rc, operation: "send \(signalName(signal)) to pid \(pid)")
        }
    }

    private func exited(_ status: ExitStatus) {
        self.status = status
        closeHandle(handle)
        let waiters = self.waiters
        self.waiters = []
        for waiter in waiters { waiter.wake(with: status) }
        let callbacks = exitCallbacks
        exitCallbacks = []
        for callback in callbacks { callback(status) }
        Unmanaged.passUnretained(self).release()
    }
}
