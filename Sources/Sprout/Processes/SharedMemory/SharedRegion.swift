import Glibc
import Synchronization

/// A block of POSIX shared memory (`shm_open` + `mmap`), named so another process can map
/// it too: the name is what travels inside a job. The process that created it removes the
/// name when its object goes away; processes that mapped it keep their mapping. A region
/// made for one known process (a pool worker's ledger) has no name at all: it is passed
/// as a descriptor.
final class SharedRegion: @unchecked Sendable {
    private static let counter = Atomic<UInt64>(0)
    /// How many taken names a new region skips before it gives up (each is one `shm_open`).
    private static let namesToTry = 100_000

    let name: String
    let base: UnsafeMutableRawPointer
    let size: Int
    /// True for the process that created the name, which removes it.
    private let owner: Bool

    /// Creates a new zero-filled region of `size` bytes.
    init(size: Int) throws(SharedMemoryError) {
        let (name, fd) = try Self.createName()
        defer { close(fd) }
        do {
            base = try Self.map(fd, name: name, truncatingTo: size)
        } catch {
            shm_unlink(name)
            throw error
        }
        self.name = name
        self.size = size
        owner = true
    }

    /// Creates a new zero-filled region of `size` bytes that has no name: `pass` is given a
    /// descriptor of it (valid during the call only) to hand to another process, and
    /// returns 0 or the `errno` it failed with. Nothing of it is left in /dev/shm, however
    /// either process ends.
    init(unnamedSize size: Int, passing pass: (Int32) -> Int32) throws(SharedMemoryError) {
        let (name, fd) = try Self.createName()
        // From here on only descriptors reach it.
        shm_unlink(name)
        defer { close(fd) }
        let base = try Self.map(fd, name: name, truncatingTo: size)
        let code = pass(fd)
        guard code == 0 else {
            munmap(base, size)
            throw SharedMemoryError(operation: "pass \(name)", code: code)
        }
        self.base = base
        self.name = name
        self.size = size
        owner = false
    }

    /// Maps the existing region `name`, which must hold at least `minimum` bytes (a name
    /// from another process is not trusted to be what it claims).
    init(opening name: String, atLeast minimum: Int = 1) throws(SharedMemoryError) {
        let fd = shm_open(name, O_RDWR | O_CLOEXEC, 0)
        guard fd >= 0 else { throw SharedMemoryError(operation: "shm_open \(name)", code: errno) }
        defer { close(fd) }
        (base, size) = try Self.map(fd, name: name, atLeast: minimum)
        self.name = name
        owner = false
    }

    /// Maps the region another process passed as descriptor `fd` (an unnamed one), which
    /// must hold at least `minimum` bytes; `fd` is closed.
    init(descriptor fd: Int32, atLeast minimum: Int = 1) throws(SharedMemoryError) {
        defer { close(fd) }
        name = "descriptor \(fd)"
        (base, size) = try Self.map(fd, name: name, atLeast: minimum)
        owner = false
    }

    /// Creates and opens a name no one holds. A name can already exist: an earlier process
    /// with this pid (pids are reused) was killed before it removed its names. Such a name
    /// belongs to no one alive; the next serial is taken instead of failing.
    private static func createName() throws(SharedMemoryError) -> (String, Int32) {
        var candidate = ""
        var fd: Int32 = -1
        for _ in 0..<namesToTry {
            candidate = "/sprout-\(getpid())-\(counter.add(1, ordering: .relaxed).newValue)"
            fd = shm_open(candidate, O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, 0o600)
            if fd >= 0 || errno != EEXIST { break }
        }
        guard fd >= 0 else { throw SharedMemoryError(operation: "shm_open \(candidate)", code: errno) }
        return (candidate, fd)
    }

    /// Sizes the new region behind `fd` to `size` bytes and maps it.
    private static func map(_ fd: Int32, name: String, truncatingTo size: Int) throws(SharedMemoryError) -> UnsafeMutableRawPointer {
        guard ftruncate(fd, off_t(size)) == 0 else { throw SharedMemoryError(operation: "ftruncate \(name)", code: errno) }
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
        guard let base = mmap(nil, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0), base != MAP_FAILED else {
            throw SharedMemoryError(operation: "mmap \(name)", code: errno)
        }
        return (base, size)
    }

    deinit {
        munmap(base, size)
        if owner { shm_unlink(name) }
    }
}
