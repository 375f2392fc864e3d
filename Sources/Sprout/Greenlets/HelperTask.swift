/// Starts `body` in a task of Sprout's own (a timeout's body, a child's reaper) that, like
/// a greenlet, prefers the hub as its executor and is registered as such — acting for the
/// calling greenlet, so ``GreenletContext/current`` and ``currentGreenlet()`` (and what
/// uses them: `RLock`'s owner, reports) stay that greenlet's inside, as gevent's `getcurrent()` does in a `Timeout`.
///
/// Registered, the hub runs its jobs with the hub as task executor. Unregistered, the
/// runtime would see a task executor it was not given at each `@Hub` call, and every such
/// call would hop through the hub's queue and back — slow, and a wake-up could slip in
/// between a wait's check and its park.
func startHelperTask<T: Sendable>(
    _ body: @escaping @Hub @Sendable () async throws -> T
) -> Task<T, any Error> {
    let caller = GreenletRegistry.shared.current()
    return Task(executorPreference: LoopExecutor.shared) { try await runRegistered(body, actingFor: caller) }
}

// A named function: `Task(executorPreference:) { @Hub in ... }` does not compile in Swift 6.3.
private func runRegistered<T: Sendable>(
    _ body: @Hub @Sendable () async throws -> T,
    actingFor caller: (any RunningGreenlet)?
) async throws -> T {
    let task = withUnsafeCurrentTask { taskKey($0!) }
    GreenletRegistry.shared.addHelper(task: task, actingFor: caller)
    defer { GreenletRegistry.shared.remove(task: task) }
    return try await body()
}
