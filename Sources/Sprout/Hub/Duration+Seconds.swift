extension Duration {
    /// This duration in seconds, as the calls that take `Double` seconds want it: the
    /// `Duration` overloads (`sleep(for:)`, `withTimeout(.seconds(5))`, ...) forward through it.
    package var inSeconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}
