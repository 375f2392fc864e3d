import CLibuv

/// Closes a libuv handle and frees its memory once libuv is done with it. Safe to call on
/// a handle that teardown already closed.
package func closeHandle<Handle>(_ handle: UnsafeMutablePointer<Handle>) {
    let raw = UnsafeMutableRawPointer(handle).assumingMemoryBound(to: uv_handle_t.self)
    if uv_is_closing(raw) != 0 {
        // Teardown's walk closed it already; libuv may still touch it, so it is not freed.
        return
    }
    uv_close(raw) { handle in
        handle?.deallocate()
    }
}
