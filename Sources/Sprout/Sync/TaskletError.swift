/// Why an explicit switch between ``Tasklet``s failed.
public enum TaskletError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The tasklet switched to has already finished.
    case finished
    /// The tasklet switched to is running but not parked in a switch (it waits on
    /// something else, such as a sleep or a queue), so it cannot take control now.
    case busy
    /// The tasklet was switched to before it was given a body (``Tasklet/run``).
    case noBody

    /// A sentence saying what went wrong.
    public var description: String {
        switch self {
        case .finished: "switch to a tasklet that has finished"
        case .busy: "switch to a tasklet that is running and not parked in a switch"
        case .noBody: "switch to a tasklet that has no body to run"
        }
    }
}
