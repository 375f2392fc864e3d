import CLibuv
import Synchronization

import Glibc

/// Names for code addresses, for a stack in a report: the dynamic symbol `dladdr` finds
/// (libc's `usleep`), else the object file's own symbol table (`.symtab`) — an executable
/// exports none of its functions, but keeps their names unless it was stripped — with
/// Swift names demangled. Off the hub: it reads files and allocates.
enum SymbolNames {
    /// The symbol tables read so far, by file path (`nil` when a file has none).
    private static let tables = ThreadMutex<[String: SymbolTable?]>([:])

    /// "usleep + 36 in libc.so.6", "blockTheHubForTest() + 28 in sprout-test-helper", or the
    /// raw address. A return address is looked up one byte back, inside the call that
    /// pushed it: a call that ends its function returns to the next one's first byte.
    static func describe(_ address: UnsafeRawPointer, isReturnAddress: Bool) -> String {
        let address = isReturnAddress ? address - 1 : address
        // glibc's Dl_info: the file's path, where it is loaded, the nearest dynamic symbol's
        // name and its address.
        var info = [UnsafeRawPointer?](repeating: nil, count: 4)
        guard let dladdr, info.withUnsafeMutableBytes({ dladdr(address, $0.baseAddress) }) != 0,
              let base = info[1] else { return "\(address)" }
        let file = info[0].map { String(cString: $0.assumingMemoryBound(to: CChar.self)) } ?? "?"
        let fileName = file.split(separator: "/").last.map(String.init) ?? file
        if let symbol = info[2], let start = info[3] {
            return "\(demangle(String(cString: symbol.assumingMemoryBound(to: CChar.self)))) + \(address - start) in \(fileName)"
        }
        let table = tables.withLock { tables in
            if let known = tables[file] { return known }
            let loaded = SymbolTable(path: file == "?" ? "/proc/self/exe" : file)
            tables[file] = loaded
            return loaded
        }
        let offset = UInt64(UInt(bitPattern: address) - UInt(bitPattern: base))
        guard let table, let (name, distance) = table.symbol(containing: table.isPositionIndependent
            ? offset : UInt64(UInt(bitPattern: address))) else {
            return "\(fileName) + 0x\(String(offset, radix: 16))"
        }
        return "\(demangle(name)) + \(distance) in \(fileName)"
    }

    /// The readable form of a Swift symbol ("$s4main18blockTheHubForTestyyF" ->
    /// "main.blockTheHubForTest() -> ()"); other names as they are.
    static func demangle(_ name: String) -> String {
        guard name.hasPrefix("$s") || name.hasPrefix("_T") || name.hasPrefix("$S") else { return name }
        return name.withCString { pointer in
            guard let readable = swift_demangle(pointer, strlen(pointer), nil, nil, 0) else { return name }
            defer { free(readable) }
            return String(cString: readable)
        }
    }
}

/// glibc's `dladdr`, looked up at run time: its header declares it only under `_GNU_SOURCE`,
/// and a C module built with that macro defines `fd_set` differently from the others (Clang
/// then reports the two modules' definitions as conflicting).
private let dladdr: (@convention(c) (UnsafeRawPointer?, UnsafeMutableRawPointer?) -> Int32)? =
    dlsym(nil, "dladdr").map { unsafeBitCast($0, to: (@convention(c) (UnsafeRawPointer?, UnsafeMutableRawPointer?) -> Int32).self) }

@_silgen_name("swift_demangle")
private func swift_demangle(
    _ mangledName: UnsafePointer<CChar>, _ length: Int, _ output: UnsafeMutablePointer<CChar>?,
    _ outputSize: UnsafeMutablePointer<Int>?, _ flags: UInt32
) -> UnsafeMutablePointer<CChar>?

/// The function symbols of one ELF file's `.symtab`, sorted by address.
private struct SymbolTable: Sendable {
    private var starts: [UInt64] = []
    private var sizes: [UInt64] = []
    /// Where each name starts in `strings`; names are decoded only when looked up (a debug
    /// test binary holds 65,000 of them).
    private var nameOffsets: [Int] = []
    /// The file's string table (`.strtab`), NUL-terminated names.
    private var strings: [UInt8] = []
    /// True for a shared object or position-independent executable: symbol values are
    /// offsets from where it is loaded.
    let isPositionIndependent: Bool

    init?(path: String) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var status = stat()
        guard fstat(fd, &status) == 0, status.st_size > 64 else { return nil }
        let size = Int(status.st_size)
        guard let map = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), map != MAP_FAILED else { return nil }
        defer { munmap(map, size) }
        let bytes = UnsafeRawBufferPointer(start: map, count: size)
        // ELF, 64-bit, little-endian: the only kind this project builds.
        guard bytes[0] == 0x7f, bytes[1] == 0x45, bytes[2] == 0x4c, bytes[3] == 0x46, bytes[4] == 2, bytes[5] == 1 else {
            return nil
        }
        func read<T: FixedWidthInteger>(_ offset: Int, as: T.Type) -> T {
            T(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: T.self))
        }
        isPositionIndependent = read(16, as: UInt16.self) == 3  // ET_DYN
        let sectionTable = Int(read(40, as: UInt64.self))
        let sectionSize = Int(read(58, as: UInt16.self))
        let sectionCount = Int(read(60, as: UInt16.self))
        guard sectionSize == 64, sectionTable + sectionCount * 64 <= size else { return nil }
        var symbols: [(start: UInt64, size: UInt64, name: Int)] = []
        var stringTable = (offset: 0, size: 0)
        for index in 0..<sectionCount {
            let header = sectionTable + index * 64
            guard read(header + 4, as: UInt32.self) == 2 else { continue }  // SHT_SYMTAB
            let offset = Int(read(header + 24, as: UInt64.self))
            let length = Int(read(header + 32, as: UInt64.self))
            let link = Int(read(header + 40, as: UInt32.self))
            guard offset + length <= size, link < sectionCount else { return nil }
            let stringHeader = sectionTable + link * 64
            stringTable = (Int(read(stringHeader + 24, as: UInt64.self)), Int(read(stringHeader + 32, as: UInt64.self)))
            guard stringTable.offset + stringTable.size <= size else { return nil }
            for entry in stride(from: offset, to: offset + length - 23, by: 24) {
                guard bytes[entry + 4] & 0xf == 2 else { continue }  // STT_FUNC
                let start = read(entry + 8, as: UInt64.self)
                guard start != 0 else { continue }
                symbols.append((start, read(entry + 16, as: UInt64.self), Int(read(entry, as: UInt32.self))))
            }
        }
        guard !symbols.isEmpty else { return nil }
        symbols.sort { $0.start < $1.start }
        strings = Array(UnsafeRawBufferPointer(rebasing: bytes[stringTable.offset..<stringTable.offset + stringTable.size]))
        for symbol in symbols where symbol.name < strings.count {
            starts.append(symbol.start)
            sizes.append(symbol.size)
            nameOffsets.append(symbol.name)
        }
    }

    /// The function whose code holds `address` (in the file's own numbering), and how far in.
    func symbol(containing address: UInt64) -> (String, UInt64)? {
        var low = 0
        var high = starts.count
        while low < high {
            let middle = (low + high) / 2
            if starts[middle] <= address { low = middle + 1 } else { high = middle }
        }
        guard low > 0 else { return nil }
        let index = low - 1
        let distance = address - starts[index]
        guard sizes[index] == 0 || distance < sizes[index] else { return nil }
        let name = strings[nameOffsets[index]...].prefix { $0 != 0 }
        return (String(decoding: name, as: UTF8.self), distance)
    }
}
