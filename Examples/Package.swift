// swift-tools-version: 6.3
// Sprout's demos, examples and benchmark programs, in a package of their own so that a
// package depending on Sprout resolves none of their dependencies (swift-argument-parser).
//   cd Examples && swift build -c release    (or scripts/demo.sh, bench/compare/*)
// The package-benchmark suite is a package of its own too: Examples/Benchmarks.
import PackageDescription

let package = Package(
    name: "SproutExamples",
    products: [
        .executable(name: "fetch-urls", targets: ["FetchURLs"]),
        .executable(name: "sprout-demo", targets: ["SproutDemo"]),
        .executable(name: "sprout-bench", targets: ["SproutBench"]),
        .executable(name: "sprout-bench-pool", targets: ["SproutBenchPool"]),
        .executable(name: "cpu-offload", targets: ["CPUOffload"]),
        .executable(name: "sprout-process-server", targets: ["sprout-process-server"]),
        .executable(name: "sprout-distributed", targets: ["Distributed"]),
    ],
    dependencies: [
        .package(name: "Sprout", path: ".."),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        // What `fetch-urls`, `cpu-offload` and `sprout-demo` share: the fetch demo (sequential
        // versus concurrent against a local Sprout server) and the CPU-offload comparison.
        .target(
            name: "SproutExamplesSupport",
            dependencies: [
                .product(name: "Sprout", package: "Sprout"),
                .product(name: "SproutHTTP", package: "Sprout"),
            ],
            path: "Support"
        ),
        .executableTarget(
            name: "FetchURLs",
            dependencies: [
                .product(name: "Sprout", package: "Sprout"),
                .product(name: "SproutHTTP", package: "Sprout"),
                "SproutExamplesSupport",
            ],
            path: "FetchURLs"
        ),
        .executableTarget(
            name: "SproutDemo",
            dependencies: [.product(name: "Sprout", package: "Sprout"), "SproutExamplesSupport"],
            path: "Demo"
        ),
        .executableTarget(
            name: "CPUOffload",
            dependencies: [
                .product(name: "Sprout", package: "Sprout"),
                "SproutExamplesSupport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "CPUOffload",
            exclude: ["README.md", "cpu-offload-run.svg"]
        ),
        // What the benchmark programs share: the workload type and its small helpers.
        .target(
            name: "SproutBenchSupport",
            path: "BenchSupport"
        ),
        .executableTarget(
            name: "SproutBench",
            dependencies: [
                .product(name: "Sprout", package: "Sprout"),
                .product(name: "SproutHTTP", package: "Sprout"),
                "SproutBenchSupport",
            ],
            path: "Bench"
        ),
        // The process pool's benchmarks. It links SproutHTTP and Foundation on purpose, as
        // most programs will: worker start-up (pool-ready, pool-replace) is measured from
        // such a program, where running the program again costs its whole start-up.
        .executableTarget(
            name: "SproutBenchPool",
            dependencies: [
                .product(name: "Sprout", package: "Sprout"),
                .product(name: "SproutHTTP", package: "Sprout"),
                "SproutBenchSupport",
            ],
            path: "BenchPool"
        ),
        // The seeds' server that hands each connection to a pool worker.
        .executableTarget(
            name: "sprout-process-server",
            dependencies: [.product(name: "Sprout", package: "Sprout")],
            path: "ProcessServer"
        ),
        // The CPU-offload example's CountPrimes jobs on worker hosts through PostgreSQL
        // (scripts/cluster-demo.sh runs it).
        .executableTarget(
            name: "Distributed",
            dependencies: [
                .product(name: "Sprout", package: "Sprout"),
                .product(name: "SproutPostgres", package: "Sprout"),
                "SproutExamplesSupport",
            ],
            path: "Distributed"
        ),
        .testTarget(
            name: "SproutExamplesTests",
            dependencies: [
                .product(name: "Sprout", package: "Sprout"),
                .product(name: "SproutTestSupport", package: "Sprout"),
                "SproutExamplesSupport",
                "CPUOffload",
                "sprout-process-server",
                "FetchURLs",
                "SproutDemo",
            ],
            path: "Tests/SproutExamplesTests"
        ),
    ],
    swiftLanguageModes: [.v6]
)
