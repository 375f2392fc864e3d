/// A value that arrives later, once — gevent's `AsyncResult`: one side calls ``set(_:)``
/// or ``fail(_:)``, any number of greenlets ``Completion/get(timeout:)`` or ``Completion/join(timeout:)`` it.
///
/// It is ``Joinable``, so ``joinAll(_:timeout:raiseError:count:)-([Joinable],Double?,_,_)`` and ``iwait(_:timeout:count:)-([Joinable],Double?,Int?)``
/// take it next to greenlets. `set` and `fail` may be called from any thread (a thread
/// pool finishing a job); waiting happens on the hub, as for every Sprout wait.
///
/// ```swift
/// let answer = AsyncResult<Int>()
/// spawn { try await sleep(0.1); try answer.set(42) }
/// let value = try await answer.get(timeout: 1)   // 42
/// ```
public final class AsyncResult<Value: Sendable>: Completion<Value>, @unchecked Sendable {
    /// A result with no outcome yet.
    public override init() {}

    /// Gives it its value and wakes every waiter. Callable from any thread.
    ///
    /// - Throws: ``AsyncResultError/alreadySet`` if it already has an outcome.
    public func set(_ value: Value) throws(AsyncResultError) {
        guard complete(.success(value)) else { throw .alreadySet }
    }

    /// Fails it with `error`, which every ``Completion/get(timeout:)`` then throws.
    /// Callable from any thread.
    ///
    /// - Throws: ``AsyncResultError/alreadySet`` if it already has an outcome.
    public func fail(_ error: any Error) throws(AsyncResultError) {
        guard complete(.failure(error)) else { throw .alreadySet }
    }

    /// Fails it with `CancellationError` unless it already has an outcome.
    public override func cancel() {
        complete(.failure(CancellationError()))
    }

    override func isDeliberate(_ error: any Error) -> Bool { error is CancellationError }
}
