import CLibuv

/// One read buffer for every stream and UDP socket on the hub: libuv fills it and the read
/// callback copies the bytes out before the next read, so 10,000 idle connections do not
/// each hold 64 KiB (a per-stream buffer would cost 640 MB there). Touched only on the
/// hub thread, by one read callback at a time.
struct SharedReadBuffer: @unchecked Sendable {
    private let memory = UnsafeMutableRawBufferPointer.allocate(byteCount: 65536, alignment: 16)

    /// The whole buffer, for an allocation callback.
    var uvBuffer: uv_buf_t {
        uv_buf_init(memory.baseAddress!.assumingMemoryBound(to: CChar.self), UInt32(memory.count))
    }

    /// The first `count` bytes libuv wrote.
    func bytes(_ count: Int) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: memory[0..<count])
    }
}

let sharedReadBuffer = SharedReadBuffer()
