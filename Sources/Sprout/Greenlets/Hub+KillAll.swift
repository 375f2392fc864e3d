extension Hub {
    /// Kills every other greenlet — running, or spawned and waiting for its first turn (its
    /// body then never runs) — and waits up to `grace` seconds for them to finish.
    /// Returns the greenlets that did not finish in time.
    ///
    /// - Throws: `CancellationError` if the calling greenlet is itself killed.
    @Hub
    @discardableResult
    public static func killAll(grace: Double = 2) async throws -> [any Joinable] {
        let me = GreenletContext.current?.id
        // Every running greenlet is a `Greenlet`, hence joinable; the hub's table holds it
        // as the hub's `RunningGreenlet`, since the hub may not name a type from this layer.
        let running = GreenletRegistry.shared.snapshot().filter { $0.context.id != me }.compactMap { $0 as? any Joinable }
        for greenlet in running { greenlet.cancel() }
        let finished = try await joinAll(running, timeout: grace)
        return running.filter { item in !finished.contains { $0 === item } }
    }
}
