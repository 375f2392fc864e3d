// swift-tools-version: 6.3
import PackageDescription

let package = Package(
    name: "Sprout",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "Sprout", targets: ["Sprout"]),
        .executable(name: "sprout-demo", targets: ["SproutDemo"]),
        .executable(name: "sprout-bench", targets: ["SproutBench"]),
    ],
    targets: [
        .systemLibrary(
            name: "CLibuv",
            path: "CLibuv",
            pkgConfig: "libuv",
            providers: [.apt(["libuv1-dev"]), .brew(["libuv"])]
        ),
        .target(
            name: "Sprout",
            dependencies: ["CLibuv"]
        ),
        .executableTarget(
            name: "SproutDemo",
            dependencies: ["Sprout"],
            path: "Examples/Demo"
        ),
        .executableTarget(
            name: "SproutBench",
            dependencies: ["Sprout"],
            path: "Examples/Bench"
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
            dependencies: ["Sprout", "SproutTestJobs", "sprout-test-worker", "sprout-test-helper"]
        ),
    ],
    swiftLanguageModes: [.v6]
)
