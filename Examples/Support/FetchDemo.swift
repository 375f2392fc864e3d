import Sprout
import SproutHTTP

/// The offline fetch demo: a local Sprout HTTP server whose pages answer after a delay,
/// fetched one after another and then all at once.
public enum FetchDemo {
    /// Runs the demo, writing its lines through `print`.
    @Hub
    public static func run(print: @Sendable (String) -> Void) async throws {
        print("todo")
    }
}
