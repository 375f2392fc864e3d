import Glibc

/// Makes this process's standard output line-buffered even when it is a pipe or a file,
/// as it is on a terminal. A pool's workers write to the same standard output as their
/// parent; block-buffered (C's default for a pipe), each process's lines would come out
/// in lumps when its buffer fills or it exits — out of order with the others', or lost
/// if it is killed. Call it first thing in `main`, before ``ProcessPool/serveIfWorker(jobs:coder:)``,
/// so workers do it too.
public func lineBufferStandardOutput() {
    // Swift 6 refuses to read C's global `stdout` variable (shared mutable state); its
    // address is looked up instead.
    guard let symbol = dlsym(dlopen(nil, RTLD_NOW), "stdout"),
          let file = symbol.assumingMemoryBound(to: UnsafeMutablePointer<FILE>?.self).pointee else { return }
    setvbuf(file, nil, _IOLBF, 0)
}
