import CSproutLinux
import Glibc

/// A block of shared memory that other processes can map too: a memfd (memory that lives
/// in no file system), mapped with `mmap`. Its name, what travels inside a job, is
/// `/proc/<pid>/fd/<n>#<inode>`: the creating process's descriptor of it, which another
/// process of the same user opens again, and the memory's inode, checked after opening (a
/// freed region's descriptor number is soon another's, and pids are reused: a stale name
/// fails instead of mapping other memory). The name opens while the object that made it
/// lives; the memory lives while any process maps it, and the kernel frees it after the
/// last one, however each ended (SIGKILL included). Nothing is ever left in /dev/shm, so
/// no process has to remove the names of the dead (Python's resource tracker does). The
/// cost: the creating process holds one descriptor per region while it lives. The size is
/// sealed: no process can shrink the memory under another's mapping (which would kill that
/// one with SIGBUS). A region made for one known process (a pool worker's ledger) has no
/// name: it is passed to that process as a descriptor.
final class SharedRegion: @unchecked Sendable {
    let name: String
    let base: UnsafeMutableRawPointer
    let size: Int
    /// The creating process's descriptor, which keeps the name openable; `nil` elsewhere.
    private let descriptor: Int32?

    /// Creates a new zero-filled region of `size` bytes.
    init(size: Int) throws(SharedMemoryError) {
        let (fd, inode) = try Self.create(size: size)
        name = "/proc/\(getpid())/fd/\(fd)#\(inode)"
        do {
            base = try Self.map(fd, name: name, size: size)
        } catch {
            close(fd)
            throw error
        }
        self.size = size
        descriptor = fd
    }

    /// Creates a new zero-filled region of `size` bytes that has no name: `pass` is given a descriptor of it (valid during the call only) to hand to another
    /// process, and returns 0 or the `errno` it failed with.
    init(unnamedSize size: Int, passing pass: (Int32) -> Int32) throws(SharedMemoryError) {
        let (fd, _) = try Self.create(size: size)
        defer { close(fd) }
        name = "unnamed region"
        let base = try Self.map(fd, name: name, size: size)
        let code = pass(fd)
        guard code == 0 else {
            munmap(base, size)
            throw SharedMemoryError(operation: "pass \(name)", code: code)
        }
        self.base = base
        self.size = size
        descriptor = nil
    }

    /// Maps the existing region `name`, which must hold at least `minimum` bytes. A name
    /// from another process is not trusted to be what it claims: only a region is mapped (a
    /// `/proc/<pid>/fd/<n>` path whose file is a size-sealed memfd of the named inode),
    /// never another file the job names.
    init(opening name: String, atLeast minimum: Int = 1) throws(SharedMemoryError) {
        guard let (path, inode) = Self.parse(name) else {
            throw SharedMemoryError(operation: "open \(name)", code: EINVAL,
                                    detail: "not the name of Sprout shared memory (/proc/<pid>/fd/<n>#<inode>)")
        }
        let gone = "the process that made it has freed it or has ended"
        let fd = open(path, O_RDWR | O_CLOEXEC)
        guard fd >= 0 else {
            let code = errno
            throw SharedMemoryError(operation: "open \(name)", code: code, detail: code == ENOENT ? gone : nil)
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0, UInt64(info.st_ino) == inode, sprout_size_is_sealed(fd) == 1 else {
            throw SharedMemoryError(operation: "open \(name)", code: ENOENT, detail: gone)
        }
        (base, size) = try Self.map(fd, name: name, atLeast: minimum)
        self.name = name
        descriptor = nil
    }

    /// Maps the region another process passed as descriptor `fd` (an unnamed one), which
    /// must hold at least `minimum` bytes; `fd` is closed.
    init(descriptor fd: Int32, atLeast minimum: Int = 1) throws(SharedMemoryError) {
        defer { close(fd) }
        name = "descriptor \(fd)"
        (base, size) = try Self.map(fd, name: name, atLeast: minimum)
        descriptor = nil
    }

    /// The path and inode of a name ``init(size:)`` makes, `/proc/<pid>/fd/<n>#<inode>`
    /// (digits only); `nil` for anything else.
    private static func parse(_ name: String) -> (path: String, inode: UInt64)? {
        let halves = name.split(separator: "#", omittingEmptySubsequences: false)
        guard halves.count == 2, let inode = UInt64(halves[1]) else { return nil }
        let parts = halves[0].split(separator: "/", omittingEmptySubsequences: false)
        let isNumber = { (part: Substring) in Int32(part) != nil && part.allSatisfy { $0 >= "0" && $0 <= "9" } }
        guard parts.count == 5, parts[0].isEmpty, parts[1] == "proc", parts[3] == "fd",
              isNumber(parts[2]), isNumber(parts[4]) else { return nil }
        return (String(halves[0]), inode)
    }

    /// A new memfd of `size` zero bytes whose size is sealed, and its inode.
    private static func create(size: Int) throws(SharedMemoryError) -> (fd: Int32, inode: UInt64) {
        let fd = sprout_memfd_create("sprout")
        guard fd >= 0 else { throw SharedMemoryError(operation: "memfd_create", code: errno) }
        var info = stat()
        guard ftruncate(fd, off_t(size)) == 0, sprout_seal_size(fd) == 0, fstat(fd, &info) == 0 else {
            let code = errno
            close(fd)
            throw SharedMemoryError(operation: "make a memfd of \(size) bytes", code: code)
        }
        return (fd, UInt64(info.st_ino))
    }

    /// Maps the `size` bytes of the new region behind `fd`.
    private static func map(_ fd: Int32, name: String, size: Int) throws(SharedMemoryError) -> UnsafeMutableRawPointer {
        guard let base = mmap(nil, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0), base != MAP_FAILED else {
            throw SharedMemoryError(operation: "mmap \(name)", code: errno)
        }
        return base
    }

    /// Maps the whole existing region behind `fd`, which must hold at least `minimum` bytes.
    private static func map(_ fd: Int32, name: String, atLeast minimum: Int) throws(SharedMemoryError) -> (UnsafeMutableRawPointer, Int) {
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw SharedMemoryError(operation: "fstat \(name)", code: errno) }
        let size = Int(info.st_size)
        guard size >= max(minimum, 1) else {
            throw SharedMemoryError(operation: "map \(name)", code: EINVAL,
                                    detail: "the region holds \(size) bytes, at least \(minimum) are needed")
        }
        return (try map(fd, name: name, size: size), size)
    }

    deinit {
        munmap(base, size)
        if let descriptor { close(descriptor) }
    }
}
