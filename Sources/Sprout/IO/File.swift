import CLibuv

import Glibc

/// A regular file read and written on libuv's thread pool, so a slow disk never blocks
/// the hub. Reads and writes are sequential (from the current position): use a file from
/// one greenlet at a time. ``close()`` when done. Hub-thread only.
///
/// ```swift
/// let config = try await File.read("/etc/app.conf")
/// try await File.write(Array("done\n".utf8), to: "/tmp/status")
/// ```
@Hub
public final class File {
    /// How ``open(_:mode:permissions:)`` opens a file.
    public enum Mode: Sendable {
        /// Reading only; the file must exist.
        case read
        /// Writing from the start: created if missing, emptied if present.
        case write
        /// Writing at the end: created if missing.
        case append
        /// Reading and writing from the start; the file must exist.
        case readWrite

        var flags: Int32 {
            switch self {
            case .read: O_RDONLY
            case .write: O_WRONLY | O_CREAT | O_TRUNC
            case .append: O_WRONLY | O_CREAT | O_APPEND
            case .readWrite: O_RDWR
            }
        }
    }

    /// The path the file was opened with.
    public let path: String
    private var fd: Int32

    private init(path: String, fd: Int32) {
        self.path = path
        self.fd = fd
    }

    isolated deinit {
        close()
    }

    /// Opens `path`.
    ///
    /// - Parameters:
    ///   - path: the file's path.
    ///   - mode: reading, writing, appending, creating (``Mode``).
    ///   - permissions: for a file that `mode` creates (before the umask).
    /// - Throws: ``IOError`` (`open /etc/missing: ENOENT`, `EACCES`);
    ///   `CancellationError` if the greenlet is killed.
    public static func open(_ path: String, mode: Mode = .read, permissions: Int32 = 0o644) async throws -> File {
        let fd = try await runFileRequest("open", path) { request, callback in
            uv_fs_open(Hub.loop, request, path, mode.flags | O_CLOEXEC, permissions, callback)
        }
        return File(path: path, fd: Int32(fd))
    }

    /// Reads the next bytes, at most `maxBytes`.
    ///
    /// - Returns: the bytes read; an empty array at end of file.
    /// - Throws: ``IOError`` (`read /path: EISDIR`, `EBADF` after ``close()``);
    ///   `CancellationError` if the greenlet is killed.
    public func read(upTo maxBytes: Int = 65536) async throws -> [UInt8] {
        precondition(maxBytes > 0, "read(upTo:) needs a positive maxBytes")
        let fd = try openDescriptor("read")
        let buffer = FileBuffer(count: maxBytes)
        let count = try await runFileRequest("read", path, keeping: buffer) { request, callback in
            var slice = uv_buf_init(buffer.memory.baseAddress!.assumingMemoryBound(to: CChar.self), UInt32(maxBytes))
            return uv_fs_read(Hub.loop, request, fd, &slice, 1, -1, callback)
        }
        return Array(UnsafeRawBufferPointer(rebasing: buffer.memory[0..<count]))
    }

    /// Writes all of `bytes` at the current position (the end, in `.append` mode).
    ///
    /// - Throws: ``IOError`` (`write /path: ENOSPC`, `EBADF` after ``close()`` or on a
    ///   file opened for reading); `CancellationError` if the greenlet is killed (part of
    ///   the bytes may have been written).
    public func write(_ bytes: [UInt8]) async throws {
        let fd = try openDescriptor("write")
        var offset = 0
        while offset < bytes.count {
            let chunk = min(bytes.count - offset, 1 << 20)
            let buffer = FileBuffer(count: chunk)
            bytes.withUnsafeBytes { raw in
                buffer.memory.baseAddress!.copyMemory(from: raw.baseAddress! + offset, byteCount: chunk)
            }
            offset += try await runFileRequest("write", path, keeping: buffer) { request, callback in
                var slice = uv_buf_init(buffer.memory.baseAddress!.assumingMemoryBound(to: CChar.self), UInt32(chunk))
                return uv_fs_write(Hub.loop, request, fd, &slice, 1, -1, callback)
            }
        }
    }

    /// Closes the file on libuv's thread pool, without waiting. Closing twice does nothing.
    public func close() {
        guard fd >= 0 else { return }
        let request = UnsafeMutablePointer<uv_fs_t>.allocate(capacity: 1)
        let rc = uv_fs_close(Hub.loop, request, fd) { request in
            uv_fs_req_cleanup(request)
            request!.deallocate()
        }
        if rc != 0 {
            request.deallocate()
            closeDescriptor(fd)
        }
        fd = -1
    }

    private func openDescriptor(_ verb: String) throws(IOError) -> Int32 {
        guard fd >= 0 else { throw IOError(code: Int32(UV_EBADF.rawValue), operation: "\(verb) after close", peer: path) }
        return fd
    }

    /// Reads a whole file.
    ///
    /// - Throws: ``IOError`` (`open /path: ENOENT`, `ENOBUFS` for a file larger than
    ///   `maxBytes`); `CancellationError` if the greenlet is killed.
    public static func read(_ path: String, maxBytes: Int = 1 << 30) async throws -> [UInt8] {
        let file = try await open(path)
        defer { file.close() }
        var contents: [UInt8] = []
        while true {
            let chunk = try await file.read(upTo: 1 << 20)
            if chunk.isEmpty { return contents }
            contents += chunk
            if contents.count > maxBytes {
                throw IOError(code: Int32(UV_ENOBUFS.rawValue), operation: "read more than \(maxBytes) bytes from", peer: path)
            }
        }
    }

    /// Writes `bytes` as the whole content of `path` (created or replaced), or at its end
    /// with `append`.
    ///
    /// - Throws: ``IOError`` (`open /path: EACCES`, `write /path: ENOSPC`);
    ///   `CancellationError` if the greenlet is killed.
    public static func write(_ bytes: [UInt8], to path: String, append: Bool = false) async throws {
        let file = try await open(path, mode: append ? .append : .write)
        defer { file.close() }
        try await file.write(bytes)
    }

    /// Removes the file at `path`.
    ///
    /// - Throws: ``IOError`` (`remove /path: ENOENT`); `CancellationError` if killed.
    public static func remove(_ path: String) async throws {
        _ = try await runFileRequest("remove", path) { request, callback in
            uv_fs_unlink(Hub.loop, request, path, callback)
        }
    }
}
