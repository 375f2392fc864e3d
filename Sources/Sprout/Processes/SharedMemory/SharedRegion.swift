import Glibc
import Synchronization

/// A block of POSIX shared memory (`shm_open` + `mmap`), named so another process can map
/// it too: the name is what travels inside a job. The process that created it removes the
/// name when its object goes away; processes that mapped it keep their mapping.
final class SharedRegion: @unchecked Sendable {
    private static let counter = Atomic<UInt64>(0)
    /// How many taken names a new region skips before it gives up (each is one `shm_open`).
    private static let namesToTry = 100_000

    let name: String
    let base: UnsafeMutableRawPointer
    let size: Int
    private var owner: Bool

    /// Creates a new zero-filled region of `size` bytes.
    init(size: Int) throws(SharedMemoryError) {
        // A name can already exist: an earlier process with this pid (pids are reused) was
        // killed before it removed its names. Such a name belongs to no one alive; take the
        // next serial instead of failing.
        var candidate = ""
        var fd: Int32 = -1
        for _ in 0..<Self.namesToTry {
            candidate = "/sprout-\(getpid())-\(Self.counter.add(1, ordering: .relaxed).newValue)"
            fd = shm_open(candidate, O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, 0o600)
            if fd >= 0 || errno != EEXIST { break }
        }
        guard fd >= 0 else { throw SharedMemoryError(operation: "shm_open \(candidate)", code: errno) }
        name = candidate
        defer { close(fd) }
        guard ftruncate(fd, off_t(size)) == 0 else {
            let code = errno
            shm_unlink(name)
            throw SharedMemoryError(operation: "ftruncate \(name)", code: code)
        }
        guard let base = mmap(nil, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0), base != MAP_FAILED else {
            let code = errno
            shm_unlink(name)
            throw SharedMemoryError(operation: "mmap \(name)", code: code)
        }
        self.base = base
        self.size = size
        owner = true
    }

    /// Maps the existing region `name`, which must hold at least `minimum` bytes (a name
    /// from another process is not trusted to be what it claims).
    init(opening name: String, atLeast minimum: Int = 1) throws(SharedMemoryError) {
        self.name = name
        let fd = shm_open(name, O_RDWR | O_CLOEXEC, 0)
        guard fd >= 0 else { throw SharedMemoryError(operation: "shm_open \(name)", code: errno) }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw SharedMemoryError(operation: "fstat \(name)", code: errno) }
        size = Int(info.st_size)
        guard size >= max(minimum, 1) else {
            throw SharedMemoryError(operation: "map \(name)", code: EINVAL,
                                    detail: "the region holds \(size) bytes, at least \(minimum) are needed")
        }
        guard let base = mmap(nil, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0), base != MAP_FAILED else {
            throw SharedMemoryError(operation: "mmap \(name)", code: errno)
        }
        self.base = base
        owner = false
    }

    deinit {
        munmap(base, size)
        removeName()
    }

    /// Removes the name now, once every process that needs it has mapped the region, so
    /// nothing is left in /dev/shm even if this process is killed later.
    func removeName() {
        guard owner else { return }
        owner = false
        shm_unlink(name)
    }
}
