/// The last bytes a worker wrote to standard error, kept for crash reports.
struct StderrTail {
    static let limit = 4096
    private var bytes: [UInt8] = []

    mutating func append(_ chunk: UnsafeRawBufferPointer) {
        bytes.append(contentsOf: chunk)
        if bytes.count > Self.limit { bytes.removeFirst(bytes.count - Self.limit) }
    }

    /// The kept bytes as text, starting at a line boundary when one is available.
    var text: String {
        var slice = bytes[...]
        if bytes.count == Self.limit, let newline = slice.firstIndex(of: 10) {
            slice = slice[(newline + 1)...]
        }
        return String(decoding: slice, as: UTF8.self).trimmingSuffixNewlines()
    }
}

extension String {
    fileprivate func trimmingSuffixNewlines() -> String {
        var result = self
        while result.hasSuffix("\n") { result.removeLast() }
        return result
    }
}
