import Synchronization

import Glibc

/// Where the hub writes what it must tell a person: unobserved greenlet errors, a
/// blocked loop, work that could not run. One line per report, on standard error.
package enum HubDiagnostics {
    private static let sink = ThreadMutex<(@Sendable (String) -> Void)?>(nil)

    /// Replaces the destination of Sprout's reports (standard error by default); pass
    /// `nil` to restore it. Tests and logging bridges use this; reports arrive on any thread.
    package static func setReporter(_ reporter: (@Sendable (String) -> Void)?) {
        sink.withLock { $0 = reporter }
    }

    /// Sends one report to the current destination.
    package static func report(_ message: String) {
        if let custom = sink.withLock({ $0 }) {
            custom(message)
            return
        }
        let line = message.hasSuffix("\n") ? message : message + "\n"
        var bytes = Array(line.utf8)
        bytes.withUnsafeMutableBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let n = write(2, buffer.baseAddress! + offset, buffer.count - offset)
                if n <= 0 { break }
                offset += n
            }
        }
    }
}
