/// Memory a file request reads into; it lives until libuv is done with it.
final class FileBuffer {
    let memory: UnsafeMutableRawBufferPointer

    init(count: Int) {
        memory = .allocate(byteCount: max(count, 1), alignment: 16)
    }

    deinit { memory.deallocate() }
}
