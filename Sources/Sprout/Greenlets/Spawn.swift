/// Starts `body` as a new greenlet on the hub and returns its handle — gevent's `spawn`.
///
/// The greenlet starts on a later turn of the hub (greenlets spawned in order start in
/// that order) and runs until it returns, throws, or is killed. Until its turn it holds no
/// Swift task, and it starts without the caller's task-local values (as a gevent greenlet
/// starts with an empty context). The body is `@Hub`, so
/// it may use hub-isolated state directly. Callable from any thread or task.
///
/// - Parameters:
///   - name: a name for reports; `greenlet-<id>` when `nil`.
///   - file: where the greenlet was spawned, for reports (leave the default).
///   - line: the line it was spawned at, for reports (leave the default).
///   - body: the greenlet's code.
@discardableResult
@inlinable
public func spawn<Value: Sendable>(
    name: String? = nil,
    file: StaticString = #fileID,
    line: UInt = #line,
    _ body: @escaping @Hub @Sendable () async throws -> Value
) -> Greenlet<Value> {
    // Inlined so that the greenlet is allocated where `Value` is known: generic code in
    // Sprout looked the metadata of `Greenlet<Value>` up at run time on every spawn.
    let greenlet = Greenlet<Value>(name: name, file: file, line: line)
    greenlet.start(body)
    return greenlet
}

/// Starts `body` as a new greenlet, as ``spawn(name:file:line:_:)`` does, but with the
/// caller's task-local values: its task is made now, in the calling task, rather than when the
/// hub reaches it. For the tests' `onHub`, whose greenlet must carry Swift Testing's current
/// test: an `#expect` failing without it is reported against an «unknown» test, and the test
/// itself prints "passed". Unlike `spawn`'s, its task may start before greenlets spawned
/// earlier that have not had their turn yet.
@Hub
package func spawnCarryingTaskLocals<Value: Sendable>(
    file: StaticString = #fileID, line: UInt = #line, _ body: @escaping @Hub @Sendable () async throws -> Value
) -> Greenlet<Value> {
    let greenlet = Greenlet<Value>(name: nil, file: file, line: line)
    greenlet.startCarryingTaskLocals(body)
    return greenlet
}

/// Starts `body` as a greenlet after `seconds` — gevent's `spawn_later`. Killing the
/// greenlet before then means `body` never runs.
@discardableResult
public func spawnLater<Value: Sendable>(
    _ seconds: Double,
    name: String? = nil,
    file: StaticString = #fileID,
    line: UInt = #line,
    _ body: @escaping @Hub @Sendable () async throws -> Value
) -> Greenlet<Value> {
    spawn(name: name, file: file, line: line) {
        try await sleep(seconds)
        return try await body()
    }
}
