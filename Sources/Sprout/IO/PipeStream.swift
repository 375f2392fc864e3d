import CLibuv

import Glibc

/// A pipe or terminal as a ``ByteStream``: a child process's standard input, output or
/// error, or this process's own (``standardInput()``, ``standardOutput()``,
/// ``standardError()``). Reads and writes suspend only the calling greenlet.
@Hub
public final class PipeStream: ByteStream {
    /// The file descriptor the stream reads or writes.
    public let fd: Int32
    private let label: String

    /// Wraps an open pipe, socket or terminal descriptor; ``ByteStream/close()`` closes it.
    ///
    /// libuv puts the descriptor in non-blocking mode, which other processes sharing the
    /// same open pipe also see.
    ///
    /// - Throws: ``IOError`` if the descriptor is not a pipe, socket or terminal
    ///   (`EINVAL` for a regular file: use ``File`` for those).
    public init(fd: Int32, label: String? = nil) throws(IOError) {
        self.fd = fd
        self.label = label ?? "fd \(fd)"
        let operation = "open as a stream"
        switch uv_guess_handle(fd) {
        case UV_TTY:
            let handle = UnsafeMutablePointer<uv_tty_t>.allocate(capacity: 1)
            let rc = uv_tty_init(Hub.loop, handle, fd, 0)
            if rc != 0 {
                handle.deallocate()
                throw IOError(code: rc, operation: operation, peer: self.label)
            }
            super.init(handle: UnsafeMutableRawPointer(handle).assumingMemoryBound(to: uv_stream_t.self))
        case UV_NAMED_PIPE, UV_TCP, UV_UDP:
            let handle = UnsafeMutablePointer<uv_pipe_t>.allocate(capacity: 1)
            var rc = uv_pipe_init(Hub.loop, handle, 0)
            if rc == 0 {
                rc = uv_pipe_open(handle, fd)
                if rc != 0 { closeHandle(handle) }
            } else {
                handle.deallocate()
            }
            if rc != 0 { throw IOError(code: rc, operation: operation, peer: self.label) }
            super.init(handle: UnsafeMutableRawPointer(handle).assumingMemoryBound(to: uv_stream_t.self))
        default:
            throw IOError(code: Int32(UV_EINVAL.rawValue), operation: "open as a stream (not a pipe, socket or terminal)", peer: self.label)
        }
    }

    /// This process's standard input as a stream (a pipe or terminal).
    ///
    /// - Throws: ``IOError`` `EINVAL` when standard input is a regular file.
    public static func standardInput() throws(IOError) -> PipeStream {
        try PipeStream(fd: 0, label: "standard input")
    }

    /// This process's standard output as a stream (a pipe or terminal).
    ///
    /// - Throws: ``IOError`` `EINVAL` when standard output is a regular file.
    public static func standardOutput() throws(IOError) -> PipeStream {
        try PipeStream(fd: 1, label: "standard output")
    }

    /// This process's standard error as a stream (a pipe or terminal).
    ///
    /// - Throws: ``IOError`` `EINVAL` when standard error is a regular file.
    public static func standardError() throws(IOError) -> PipeStream {
        try PipeStream(fd: 2, label: "standard error")
    }

    package override func peerDescription() -> String { label }

    /// A new pipe: the end for this process as a stream, and the other end as a plain
    /// blocking descriptor (close-on-exec) to hand to a child.
    ///
    /// - Parameter parentReads: true when this process reads from the pipe.
    package static func makePipe(parentReads: Bool, label: String) throws(IOError) -> (stream: PipeStream, childEnd: Int32) {
        var fds: [uv_file] = [-1, -1]
        let rc = uv_pipe(&fds, 0, 0)
        if rc != 0 { throw IOError(code: rc, operation: "create pipe for", peer: label) }
        let (mine, theirs) = parentReads ? (fds[0], fds[1]) : (fds[1], fds[0])
        do {
            return (try PipeStream(fd: mine, label: label), theirs)
        } catch {
            closeDescriptor(mine)
            closeDescriptor(theirs)
            throw error
        }
    }
}
