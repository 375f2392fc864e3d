// What the helper programs share: reading this process's open descriptors, and waiting for
// their count instead of sleeping a fixed time and hoping libuv has closed everything.
import Sprout

import Glibc

/// What each open descriptor of this process refers to (`12 -> socket:[123]`, a path),
/// sorted; the directory stream's own descriptor is left out.
public func openDescriptors() -> [String] {
    guard let directory = opendir("/proc/self/fd") else { return [] }
    defer { closedir(directory) }
    var descriptors: [String] = []
    while let entry = readdir(directory) {
        let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        if name.hasPrefix(".") || Int32(name) == dirfd(directory) { continue }
        var target = [CChar](repeating: 0, count: 512)
        let length = readlink("/proc/self/fd/\(name)", &target, target.count - 1)
        let link = length > 0 ? String(decoding: target[..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self) : "?"
        descriptors.append("\(name) -> \(link)")
    }
    return descriptors.sorted()
}

/// The open descriptors once their count holds still for five readings 10 ms apart (at
/// most `seconds`): libuv closes a handle's descriptor in a callback on a later loop turn,
/// so a reading right after a close may still count it.
@Hub
public func settledDescriptors(within seconds: Double = 5) async throws -> [String] {
    var reading = openDescriptors()
    var steady = 0
    let deadline = monotonicNanoseconds() + UInt64(seconds * 1e9)
    while steady < 5, monotonicNanoseconds() < deadline {
        try await sleep(0.01)
        let next = openDescriptors()
        steady = next.count == reading.count ? steady + 1 : 0
        reading = next
    }
    return reading
}

/// The open descriptors as soon as there are `count` of them, or after `seconds` (then
/// more or fewer: the caller reports the difference).
@Hub
public func descriptors(returningTo count: Int, within seconds: Double = 5) async throws -> [String] {
    var reading = openDescriptors()
    let deadline = monotonicNanoseconds() + UInt64(seconds * 1e9)
    while reading.count != count, monotonicNanoseconds() < deadline {
        try await sleep(0.01)
        reading = openDescriptors()
    }
    return reading
}
