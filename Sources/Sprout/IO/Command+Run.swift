import CLibuv

import Glibc

extension Command {
    /// Starts the command and returns at once with its handle.
    ///
    /// - Throws: ``IOError`` if it cannot start (`spawn nosuch: ENOENT`, a pipe that
    ///   cannot be made).
    @Hub
    public func spawn() throws(IOError) -> ChildCommand {
        var spec = ChildSpec(executable: executable)
        spec.arguments = arguments
        spec.environment = environment.map { $0.map { "\($0.key)=\($0.value)" } }
        spec.workingDirectory = workingDirectory
        spec.newProcessGroup = newProcessGroup

        var childEnds: [Int32] = []
        defer { for fd in childEnds { close(fd) } }
        var pipes: [PipeStream?] = [nil, nil, nil]
        var failed = true
        defer { if failed { pipes.forEach { $0?.abort() } } }
        let devNull = open("/dev/null", O_RDWR | O_CLOEXEC)
        if devNull >= 0 { childEnds.append(devNull) }

        var stdio: [ChildStdio] = []
        switch standardInput {
        case .inherit: stdio.append(.inherit(0))
        case .null: stdio.append(devNull >= 0 ? .inherit(devNull) : .ignore)
        case .pipe, .bytes:
            let (stream, end) = try PipeStream.makePipe(parentReads: false, label: "standard input of \(executable)")
            pipes[0] = stream
            childEnds.append(end)
            stdio.append(.inherit(end))
        }
        for (slot, output) in [(1, standardOutput), (2, standardError)] {
            switch output {
            case .inherit: stdio.append(.inherit(Int32(slot)))
            case .null: stdio.append(devNull >= 0 ? .inherit(devNull) : .ignore)
            case .pipe:
                let name = slot == 1 ? "standard output" : "standard error"
                let (stream, end) = try PipeStream.makePipe(parentReads: true, label: "\(name) of \(executable)")
                pipes[slot] = stream
                childEnds.append(end)
                stdio.append(.inherit(end))
            }
        }
        spec.stdio = stdio
        let child: SpawnedChild
        do {
            child = try SpawnedChild(spec)
        } catch {
            throw IOError(code: error.code, operation: "spawn", peer: executable)
        }
        failed = false
        let running = ChildCommand(child: child, commandLine: commandLine, pipes: pipes)
        if case .bytes(let bytes) = standardInput, let input = pipes[0] {
            Sprout.spawn(name: "stdin of \(executable)") {
                defer { input.close() }
                try? await input.write(bytes)
            }
        }
        return running
    }

    /// Runs the command to the end and returns its exit status and output; standard
    /// output and error are captured unless set to `.inherit` or `.null` explicitly
    /// (`.inherit` here means `.pipe`, the way `subprocess.run(capture_output=True)` works).
    ///
    /// If the calling greenlet is killed, or `timeout` passes, the child is killed
    /// (SIGKILL) and waited for, so none outlives the call.
    ///
    /// - Parameters:
    ///   - timeout: seconds the command may run (`nil`: no limit).
    ///   - maxBytes: the most output kept per stream; more is an error.
    /// - Throws: ``IOError`` if it cannot start, `ETIMEDOUT` (`run sleep 10: ETIMEDOUT`)
    ///   when `timeout` passes, `ENOBUFS` when output exceeds `maxBytes`;
    ///   `CancellationError` if the greenlet is killed. A non-zero exit is not an error:
    ///   check ``CommandOutput/status``.
    @Hub
    public func output(timeout: Double? = nil, maxBytes: Int = 64 << 20) async throws -> CommandOutput {
        var command = self
        if case .inherit = command.standardOutput { command.standardOutput = .pipe }
        if case .inherit = command.standardError { command.standardError = .pipe }
        if case .inherit = command.standardInput { command.standardInput = .null }
        let child = try command.spawn()
        do {
            return try await withTimeout(timeout) {
                let errors = Sprout.spawn(name: "stderr of \(command.executable)") {
                    try await child.standardError?.readToEnd(maxLength: maxBytes) ?? []
                }
                defer { errors.cancel() }
                let output = try await child.standardOutput?.readToEnd(maxLength: maxBytes) ?? []
                let errorOutput = try await errors.get()
                let status = try await child.wait()
                child.standardOutput?.close()
                child.standardError?.close()
                return CommandOutput(status: status, standardOutput: output, standardError: errorOutput)
            }
        } catch let timedOut as Timeout where !Task.isCancelled {
            await child.killAndReap()
            throw IOError(code: Int32(UV_ETIMEDOUT.rawValue), operation: "run (for \(timedOut.seconds) s)", peer: commandLine)
        } catch {
            await child.killAndReap()
            throw error
        }
    }
}
