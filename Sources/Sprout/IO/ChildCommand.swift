import CLibuv

import Glibc

/// A running child process started by ``Command/spawn()`` — Python's `Popen`.
///
/// Its pipes (for streams set to `.pipe`) are ``PipeStream``s; ``wait(timeout:)-(Double?)`` awaits
/// the exit; ``kill(_:)`` signals it. Hub-thread only.
@Hub
public final class ChildCommand {
    /// The child's process id.
    public let pid: Int32
    /// Write here when standard input is `.pipe`; ``ByteStream/close()`` sends end of file.
    public let standardInput: PipeStream?
    /// Read here when standard output is `.pipe`.
    public let standardOutput: PipeStream?
    /// Read here when standard error is `.pipe`.
    public let standardError: PipeStream?

    private let child: SpawnedChild
    private let commandLine: String

    init(child: SpawnedChild, commandLine: String, pipes: [PipeStream?]) {
        self.child = child
        self.commandLine = commandLine
        pid = child.pid
        standardInput = pipes[0]
        standardOutput = pipes[1]
        standardError = pipes[2]
        ChildReaper.shared.track(self)
        child.onExit { [self] _ in ChildReaper.shared.forget(self) }
    }

    /// How the child ended, or `nil` while it runs.
    public var exitStatus: ExitStatus? { child.exitStatus }

    /// Waits for the child to exit.
    ///
    /// - Throws: ``IOError`` `ETIMEDOUT` if `timeout` seconds pass first (the child keeps
    ///   running); `CancellationError` if the greenlet is killed.
    public func wait(timeout: Double? = nil) async throws -> ExitStatus {
        guard let status = try await child.wait(timeout: timeout) else {
            throw IOError(code: Int32(UV_ETIMEDOUT.rawValue), operation: "wait for", peer: "\(commandLine) (pid \(pid))")
        }
        return status
    }

    /// Sends `signal` (SIGTERM by default) to the child; does nothing once it has exited.
    ///
    /// - Throws: ``IOError`` if the signal cannot be sent.
    public func kill(_ signal: Int32 = SIGTERM) throws(IOError) {
        do {
            try child.signal(signal)
        } catch {
            throw IOError(code: error.code, operation: "send \(signalName(signal)) to", peer: "\(commandLine) (pid \(pid))")
        }
    }

    /// Kills the child with SIGKILL, waits for it and closes the pipes; for paths where
    /// the caller gives up on it (timeouts, a killed greenlet, shutdown).
    func killAndReap() async {
        try? child.signal(SIGKILL)
        // Reaping is quick after SIGKILL; the wait runs in its own task so a killed
        // caller still waits for it.
        let reap = startHelperTask { [child] in _ = try await child.wait(timeout: 5) }
        _ = try? await reap.value
        for pipe in [standardInput, standardOutput, standardError] { pipe?.abort() }
    }

    /// Stops a child at shutdown: SIGTERM, up to `grace` seconds, then SIGKILL.
    func terminate(grace: Double) async {
        try? child.signal(SIGTERM)
        if (try? await child.wait(timeout: grace)) == nil {
            await killAndReap()
        }
    }
}
