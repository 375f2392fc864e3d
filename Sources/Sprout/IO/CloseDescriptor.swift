import Glibc

/// Closes a plain file descriptor — for types whose own `close()` method hides the C one.
func closeDescriptor(_ fd: Int32) {
    _ = close(fd)
}
