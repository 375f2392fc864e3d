import Glibc

/// This process's memory mappings, from `/proc/self/maps`: where code is, and how far up
/// a thread's stack reaches.
struct MemoryMappings {
    private var code: [(start: UInt, end: UInt)] = []
    private var all: [(start: UInt, end: UInt)] = []

    /// The mappings as they are now.
    static func current() -> MemoryMappings {
        var ranges = MemoryMappings()
        let fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return ranges }
        defer { close(fd) }
        var text: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            guard count > 0 else { break }
            text += chunk[0..<count]
        }
        // "start-end perms offset device inode path", one mapping a line.
        for line in text.split(separator: UInt8(ascii: "\n")) {
            let fields = line.split(separator: UInt8(ascii: " "), maxSplits: 2)
            guard fields.count >= 2 else { continue }
            let bounds = fields[0].split(separator: UInt8(ascii: "-"))
            guard bounds.count == 2,
                  let start = UInt(String(decoding: bounds[0], as: UTF8.self), radix: 16),
                  let end = UInt(String(decoding: bounds[1], as: UTF8.self), radix: 16) else { continue }
            ranges.all.append((start, end))
            if fields[1].contains(UInt8(ascii: "x")) { ranges.code.append((start, end)) }
        }
        return ranges
    }

    /// Whether `address` lies in executable code.
    func contains(_ address: UInt) -> Bool {
        code.contains { $0.start <= address && address < $0.end }
    }

    /// The end of the mapping that holds `stackPointer`: how far up its stack can be read.
    func stackEnd(containing stackPointer: UInt) -> UInt? {
        all.first { $0.start <= stackPointer && stackPointer < $0.end }?.end
    }
}
