import Glibc

/// The stack of another thread of this process that waits in the kernel, read without
/// signalling or stopping it: the kernel shows its stack pointer and program counter in
/// `/proc/self/task/<tid>/syscall`, and the stack memory above that stack pointer stays as
/// it is while the thread waits.
///
/// The memory is read through `/proc/self/mem`, which answers an error rather than a crash
/// for an address no longer mapped (the thread may return and unwind meanwhile). Return
/// addresses are found by scanning the words above the stack pointer: a word counts when it
/// points into executable code just after a call instruction. From the first word that
/// heads a frame record (saved frame pointer, then return address: Swift and C code built
/// with frame pointers, as Swift builds on x86-64 Linux) the walk follows the frame chain,
/// which leaves out stale words; below it and above where it ends (libc's and libuv's
/// code, built without frame pointers) the scan is all there is. x86-64 only, like Sprout.
enum SuspendedStack {
    /// What `/proc/self/task/<tid>/syscall` says of a thread.
    enum State: Equatable {
        /// Waiting in the kernel (in a system call, or blocked without one), at these
        /// user-space stack pointer and program counter.
        case blocked(stackPointer: UInt, programCounter: UInt)
        /// On a CPU or ready to be, in user space or in the kernel: its registers are not shown.
        case running
    }

    /// How far above the stack pointer the walk reads.
    private static let window = 256 * 1024
    private static let maximumFrames = 48

    /// The state of thread `tid` of this process, or `nil` if it cannot be read.
    static func state(ofThread tid: Int32) -> State? {
        guard let bytes = readSmallFile("/proc/self/task/\(tid)/syscall", limit: 256), !bytes.isEmpty else { return nil }
        let fields = String(decoding: bytes, as: UTF8.self).split(whereSeparator: \.isWhitespace)
        if fields.first == "running" { return .running }
        // "nr arg1 … arg6 sp pc" in a system call, "-1 sp pc" blocked outside one.
        guard fields.count >= 3, let stackPointer = hex(fields[fields.count - 2]),
              let programCounter = hex(fields[fields.count - 1]) else { return nil }
        return .blocked(stackPointer: stackPointer, programCounter: programCounter)
    }

    /// The frames of thread `tid`, blocked at `stackPointer` and `programCounter`: the
    /// program counter, then the return addresses found above it, innermost first; `nil` if
    /// the thread ran on while its stack was read.
    static func walk(from stackPointer: UInt, programCounter: UInt, ofThread tid: Int32) -> [UnsafeRawPointer]? {
        let memory = open("/proc/self/mem", O_RDONLY | O_CLOEXEC)
        guard memory >= 0 else { return nil }
        defer { close(memory) }
        let code = MemoryMappings.current()
        guard let top = code.stackEnd(containing: stackPointer) else { return nil }
        let length = min(Int(top - stackPointer), window) / 8 * 8
        var words = [UInt](repeating: 0, count: length / 8)
        let read = words.withUnsafeMutableBytes { pread(memory, $0.baseAddress, length, off_t(Int(bitPattern: stackPointer))) }
        guard read == length,
              state(ofThread: tid) == .blocked(stackPointer: stackPointer, programCounter: programCounter) else { return nil }

        var frames = [programCounter]
        let base = stackPointer
        func word(at address: UInt) -> UInt? {
            guard address >= base, address + 8 <= base + UInt(length), address % 8 == 0 else { return nil }
            return words[Int((address - base) / 8)]
        }
        func isReturnAddress(_ value: UInt) -> Bool {
            code.contains(value) && followsCall(value, memory: memory)
        }
        // A frame record at `record`: the caller's record above it, then a return address.
        func headsChain(_ record: UInt) -> Bool {
            guard let next = word(at: record), let returnAddress = word(at: record + 8),
                  isReturnAddress(returnAddress) else { return false }
            return next > record && (word(at: next + 8).map(isReturnAddress) ?? false)
        }
        var slot = base
        while slot < base + UInt(length), frames.count < maximumFrames {
            let value = words[Int((slot - base) / 8)]
            if slot >= base + 8, headsChain(slot - 8) {
                var record = slot - 8
                while frames.count < maximumFrames, let returnAddress = word(at: record + 8),
                      isReturnAddress(returnAddress) {
                    frames.append(returnAddress)
                    guard let next = word(at: record), next > record, word(at: next + 8).map(isReturnAddress) == true else { break }
                    record = next
                }
                // The chain ends at code built without frame pointers (libuv): scan on above it.
                slot = record + 16
                continue
            }
            if isReturnAddress(value) { frames.append(value) }
            slot += 8
        }
        return frames.map { UnsafeRawPointer(bitPattern: $0)! }
    }

    /// Whether the bytes just before `address` end an x86-64 call: `E8 rel32`, or `FF /2`
    /// (through a register or memory, with or without a prefix) of 2 to 7 bytes.
    private static func followsCall(_ address: UInt, memory: Int32) -> Bool {
        guard address >= 7 else { return false }
        var bytes = [UInt8](repeating: 0, count: 7)
        let read = bytes.withUnsafeMutableBytes { pread(memory, $0.baseAddress, 7, off_t(Int(bitPattern: address - 7))) }
        guard read == 7 else { return false }
        if bytes[2] == 0xE8 { return true }
        for length in 2...7 where bytes[7 - length] == 0xFF && (bytes[8 - length] >> 3) & 7 == 2 {
            return true
        }
        return false
    }

    private static func hex(_ text: Substring) -> UInt? {
        text.hasPrefix("0x") ? UInt(text.dropFirst(2), radix: 16) : nil
    }
}
