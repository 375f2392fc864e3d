// swift-tools-version: 6.3
import PackageDescription

// Linux only: the library needs epoll, timerfd, /proc/self/exe and robust mutexes, so it
// declares no Apple platform (Sources/Sprout/Hub/LinuxOnly.swift refuses the others).

let package = Package(
    name: "Sprout",
    products: [
        .library(name: "Sprout", targets: ["Sprout"]),
        .library(name: "SproutHTTP", targets: ["SproutHTTP"]),
        .library(name: "SproutPostgres", targets: ["SproutPostgres"]),
        .executable(name: "fetch-urls", targets: ["FetchURLs"]),
        .executable(name: "sprout-demo", targets: ["SproutDemo"]),
        .executable(name: "sprout-bench", targets: ["SproutBench"]),
        .executable(name: "sprout-bench-pool", targets: ["SproutBenchPool"]),
        .executable(name: "cpu-offload", targets: ["CPUOffload"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        .systemLibrary(
            name: "CLibuv",
            path: "CLibuv",
            pkgConfig: "libuv",
            providers: [.apt(["libuv1-dev"])]
        ),
        .target(
            name: "Sprout",
            dependencies: ["CLibuv"]
        ),
        .systemLibrary(
            name: "CCurl",
            path: "CCurl",
            pkgConfig: "libcurl",
            providers: [.apt(["libcurl4-openssl-dev"])]
        ),
        .target(
            name: "SproutHTTP",
            dependencies: ["Sprout", "CCurl"]
        ),
        .systemLibrary(
            name: "CLibpq",
            path: "CLibpq",
            pkgConfig: "libpq",
            providers: [.apt(["libpq-dev"])]
        ),
        .target(
            name: "SproutPostgres",
            dependencies: ["Sprout", "CLibpq"]
        ),
        // What `fetch-urls`, `cpu-offload` and `sprout-demo` share: the fetch demo (sequential
        // versus concurrent against a local Sprout server) and the CPU-offload comparison.
        .target(
            name: "SproutExamplesSupport",
            dependencies: ["Sprout", "SproutHTTP"],
            path: "Examples/Support"
        ),
        .executableTarget(
            name: "FetchURLs",
            dependencies: ["Sprout", "SproutHTTP", "SproutExamplesSupport"],
            path: "Examples/FetchURLs"
        ),
        .executableTarget(
            name: "SproutDemo",
            dependencies: ["Sprout", "SproutExamplesSupport"],
            path: "Examples/Demo"
        ),
        .executableTarget(
            name: "CPUOffload",
            dependencies: [
                "Sprout", "SproutExamplesSupport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Examples/CPUOffload",
            exclude: ["README.md", "cpu-offload-run.svg"]
        ),
        // What the benchmark programs share: the workload type and its small helpers.
        .target(
            name: "SproutBenchSupport",
            path: "Examples/BenchSupport"
        ),
        .executableTarget(
            name: "SproutBench",
            dependencies: ["Sprout", "SproutHTTP", "SproutBenchSupport"],
            path: "Examples/Bench"
        ),
        // The process pool's benchmarks, in a program of their own: pool workers are the
        // program started again, so it links nothing a worker would not load otherwise.
        .executableTarget(
            name: "SproutBenchPool",
            dependencies: ["Sprout", "SproutBenchSupport"],
            path: "Examples/BenchPool"
        ),
        // The seeds' server that hands each connection to a pool worker.
        .executableTarget(
            name: "sprout-process-server",
            dependencies: ["Sprout"],
            path: "Examples/ProcessServer"
        ),
        // Small programs the tests start as child processes, for checks that concern the
        // whole process (exit codes, signals, loop teardown, stderr reports).
        .executableTarget(
            name: "sprout-test-helper",
            dependencies: ["Sprout"],
            path: "Tests/Helpers/HubHelper"
        ),
        .executableTarget(
            name: "sprout-io-helper",
            dependencies: ["Sprout", "SproutHelperSupport"],
            path: "Tests/Helpers/IOHelper"
        ),
        // What the helper programs share (their open descriptors, read once libuv settles).
        .target(
            name: "SproutHelperSupport",
            dependencies: ["Sprout"],
            path: "Tests/Helpers/HelperSupport"
        ),
        // What every test target shares (a bounded greenlet runner, the size knob).
        .target(
            name: "SproutTestSupport",
            dependencies: ["Sprout"],
            path: "Tests/Helpers/TestSupport"
        ),
        // Job types shared by the process tests and the worker program they start.
        .target(
            name: "SproutTestJobs",
            dependencies: ["Sprout"],
            path: "Tests/Helpers/TestJobs"
        ),
        // The pool worker the process tests use; also a pool parent for whole-process checks.
        .executableTarget(
            name: "sprout-test-worker",
            dependencies: ["Sprout", "SproutTestJobs"],
            path: "Tests/Helpers/TestWorker"
        ),
        .testTarget(
            name: "SproutTests",
            dependencies: ["Sprout", "SproutTestSupport", "SproutTestJobs", "sprout-test-worker", "sprout-test-helper"]
        ),
        .testTarget(
            name: "SproutExamplesTests",
            dependencies: ["Sprout", "SproutTestSupport", "SproutExamplesSupport", "CPUOffload"]
        ),
        .executableTarget(
            name: "sprout-http-test-helper",
            dependencies: ["Sprout", "SproutHTTP", "SproutHelperSupport"],
            path: "Tests/Helpers/HTTPHelper"
        ),
        .testTarget(
            name: "SproutHTTPTests",
            dependencies: ["Sprout", "SproutTestSupport", "SproutHTTP", "sprout-http-test-helper"]
        ),
        // Starts a PostgreSQL server in a temporary directory for a test suite.
        .target(
            name: "SproutPostgresTestSupport",
            dependencies: ["Sprout", "SproutTestSupport"],
            path: "Tests/Helpers/PostgresTestSupport"
        ),
        .testTarget(
            name: "SproutPostgresTests",
            dependencies: ["Sprout", "SproutPostgres", "SproutTestSupport", "SproutPostgresTestSupport"]
        ),
    ],
    swiftLanguageModes: [.v6]
)
