import Logging

/// A greenlet you hand control to explicitly, the way the `greenlet` library does:
/// `gr.switch(value)` suspends the caller and resumes `gr` (starting it the first time),
/// and returns whatever is passed back when someone switches to the caller again.
///
/// The seeds' greenlet example, on Sprout, prints `12 56 34 78`:
///
/// ```swift
/// let gr1 = Tasklet(), gr2 = Tasklet()
/// gr1.run = { _ in print(12); try await gr2.switch(); print(34); try await gr2.switch(); return nil }
/// gr2.run = { _ in print(56); try await gr1.switch(); print(78); return nil }
/// try await gr1.switch()      // returns when gr2 finishes: its parent is the caller
/// gr1.kill()                  // gr1 is still parked in its second switch
/// ```
///
/// Each tasklet is a real greenlet underneath (parking on a hub waiter), so it may also
/// sleep, do I/O and use queues between switches. When a tasklet's body ends, its result
/// (or error) goes to its *parent*: the tasklet that was current when it was created, or,
/// for one created outside any tasklet, the code outside all tasklets whose switch chain
/// started it — greenlet's "main greenlet". So in the example, gr2 ending returns
/// control to the caller of `gr1.switch()`, and gr1 stays parked until killed.
@Hub
public final class Tasklet: Sendable {
    /// A tasklet's code: it gets the value of the switch that started it and returns the
    /// value handed to its parent.
    public typealias Body = @Hub @Sendable (_ argument: (any Sendable)?) async throws -> (any Sendable)?

    private enum State {
        case unstarted
        /// Running: either the code now executing, or parked on something that is not a switch.
        case running
        /// Parked in ``switch(_:)`` on this waiter.
        case switchedOut(Waiter<Result<(any Sendable)?, any Error>>)
        case finished
    }

    @TaskLocal private static var running: Tasklet?

    /// The tasklet whose code runs now, `nil` outside any tasklet (greenlet's `getcurrent`).
    public static var current: Tasklet? { running }

    /// The code to run on the first switch to this tasklet; settable until then
    /// (like greenlet's `run` attribute), so two tasklets can refer to each other. It is
    /// `nil` once the tasklet has started (greenlet deletes `run` then too), so tasklets
    /// whose code refers to each other do not keep each other alive once started.
    public var run: Body?
    /// Where the result goes when the body ends; see the type's documentation.
    public private(set) var parent: Tasklet?
    private var state: State
    private var greenlet: Greenlet<Void>?
    /// True for the stand-in of code outside any tasklet.
    private let isOutside: Bool

    /// A tasklet that will run `body` when first switched to.
    public init(_ body: Body? = nil) {
        run = body
        parent = Tasklet.running
        state = .unstarted
        isOutside = false
    }

    /// Stands for code outside any tasklet that switches into one.
    private init(adopting: Void) {
        state = .running
        isOutside = true
    }

    /// The outermost ancestor: where a chain of switches started.
    private var root: Tasklet {
        var tasklet = self
        while let parent = tasklet.parent { tasklet = parent }
        return tasklet
    }

    /// Who calls from outside any tasklet: the stand-in that started this tasklet's chain if
    /// it is not parked (the outside code resuming its own chain), else a new one.
    private var outsideCaller: Tasklet {
        let root = root
        if root.isOutside, case .running = root.state { return root }
        return Tasklet(adopting: ())
    }

    /// True once the body has returned or thrown.
    public var isFinished: Bool { if case .finished = state { true } else { false } }

    /// Suspends the calling code and resumes this tasklet, passing `value` (the argument
    /// of its body when it starts, or the return value of the `switch` it is parked in).
    ///
    /// - Returns: the value passed by whoever switches back to the caller, or the result
    ///   of a child tasklet whose body ended.
    /// - Throws: ``TaskletError`` if this tasklet cannot take control (finished, busy, no
    ///   body); the error of a child tasklet whose body threw; `CancellationError` if the
    ///   calling greenlet is killed while switched out.
    @discardableResult
    public func `switch`(_ value: (any Sendable)? = nil) async throws -> (any Sendable)? {
        let caller = Tasklet.running ?? outsideCaller
        if caller === self { return value }
        // The target is resumed only once this side is registered, with no suspension in
        // between (entering `park` may hop executors), so a quick switch back is not lost.
        let wake = await park(Waiter<Result<(any Sendable)?, any Error>>()) { waiter in
            caller.state = .switchedOut(waiter)
            do {
                try resume(with: value, from: caller)
            } catch {
                caller.state = .running
                waiter.wake(with: .failure(error))
            }
        }
        caller.state = .running
        switch wake {
        case .value(let result): return try result.get()
        case .timedOut, .cancelled: throw CancellationError()
        }
    }

    /// Kills the tasklet's greenlet (if started); a switch to it afterwards throws
    /// ``TaskletError/finished`` once it has ended.
    public func kill() {
        greenlet?.cancel()
        if case .unstarted = state { state = .finished }
    }

    private func resume(with value: (any Sendable)?, from caller: Tasklet) throws(TaskletError) {
        switch state {
        case .finished: throw .finished
        case .running: throw .busy
        case .switchedOut(let waiter):
            state = .running
            waiter.wake(with: .success(value))
        case .unstarted:
            guard let body = run else { throw .noBody }
            run = nil
            if parent == nil { parent = caller.root }
            state = .running
            greenlet = spawn(name: "tasklet") { [self] in
                let result: Result<(any Sendable)?, any Error>
                do {
                    result = .success(try await Tasklet.$running.withValue(self) { try await body(value) })
                } catch {
                    result = .failure(error)
                }
                finish(with: result)
            }
        }
    }

    /// Hands the body's outcome to the nearest ancestor parked in a switch.
    private func finish(with result: Result<(any Sendable)?, any Error>) {
        state = .finished
        var ancestor = parent
        while let candidate = ancestor {
            if case .switchedOut(let waiter) = candidate.state {
                candidate.state = .running
                waiter.wake(with: result)
                return
            }
            ancestor = candidate.parent
        }
        if case .failure(let error) = result, !(error is CancellationError) {
            Hub.logger.error("a tasklet failed and no parent was waiting to receive its error: \(error)")
        }
    }
}
