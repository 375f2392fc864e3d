import Benchmark
import Sprout

/// Spawning and switching greenlets on the hub, measured by package-benchmark (wall
/// clock, allocations, instructions). Each benchmark awaits greenlets directly from its
/// async body: no `Hub.run`, no blocked thread.
let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .mallocCountTotal, .throughput],
        maxDuration: .seconds(3)
    )

    Benchmark("spawn + joinAll, 1000 greenlets", configuration: .init(scalingFactor: .kilo)) { benchmark in
        for _ in benchmark.scaledIterations {
            let greenlets = (0..<1000).map { index in spawn { index } }
            _ = try await joinAll(greenlets)
        }
    }

    Benchmark("sleep(0) ping-pong, 2 x 1000 switches", configuration: .init(scalingFactor: .kilo)) { benchmark in
        for _ in benchmark.scaledIterations {
            let players = (0..<2).map { _ in
                spawn {
                    for _ in 0..<1000 { try await sleep(0) }
                }
            }
            _ = try await joinAll(players)
        }
    }
}
