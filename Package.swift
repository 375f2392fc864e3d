// swift-tools-version: 6.3
import PackageDescription

// Linux only: the library needs epoll, timerfd, /proc/self/exe and robust mutexes, so it
// declares no Apple platform (Sources/Sprout/Hub/LinuxOnly.swift refuses the others).
// The library and its tests only: the demos, examples and benchmark programs are the
// package in Examples/, so a package depending on Sprout resolves nothing else.

let package = Package(
    name: "Sprout",
    products: [
        .library(name: "Sprout", targets: ["Sprout"]),
        .library(name: "SproutHTTP", targets: ["SproutHTTP"]),
        .library(name: "SproutPostgres", targets: ["SproutPostgres"]),
        // For the examples package's tests (Examples/Package.swift), which share the helpers.
        .library(name: "SproutTestSupport", targets: ["SproutTestSupport"]),
    ],
    dependencies: [
        // Deque: the one first-in first-out buffer of the library (the hub's run queue, wait
        // lists, queues, the pool's task queues).
        .package(url: "https://github.com/apple/swift-collections", from: "1.6.0"),
        // Every report the library makes goes through a `Logging.Logger` (labels sprout.hub,
        // sprout.pool, sprout.http, sprout.queue), so an application routes them with its own handler.
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
    ],
    targets: [
        .systemLibrary(
            name: "CLibuv",
            path: "CLibuv",
            pkgConfig: "libuv",
            providers: [.apt(["libuv1-dev"])]
        ),
        // Linux calls Swift's Glibc module leaves out (pidfd, prctl, close_range, memfd and
        // its seals), for the pool's fork server and shared memory.
        .systemLibrary(name: "CSproutLinux", path: "CSproutLinux"),
        .target(
            name: "Sprout",
            dependencies: [
                "CLibuv", "CSproutLinux", .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .systemLibrary(
            name: "CCurl",
            path: "CCurl",
            pkgConfig: "libcurl",
            providers: [.apt(["libcurl4-openssl-dev"])]
        ),
        .target(
            name: "SproutHTTP",
            dependencies: [
                "Sprout", "CCurl", .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .systemLibrary(
            name: "CLibpq",
            path: "CLibpq",
            pkgConfig: "libpq",
            providers: [.apt(["libpq-dev"])]
        ),
        .target(
            name: "SproutPostgres",
            dependencies: ["Sprout", "CLibpq", .product(name: "Logging", package: "swift-log")]
        ),
        // Small programs the tests start as child processes, for checks that concern the
        // whole process (exit codes, signals, loop teardown, stderr reports).
        .executableTarget(
            name: "sprout-test-helper",
            dependencies: ["Sprout", "SproutHelperSupport", .product(name: "Logging", package: "swift-log")],
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
            dependencies: ["Sprout", .product(name: "Logging", package: "swift-log")],
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
        // glibc's heap statistics for the pool chaos test's leak check.
        .systemLibrary(name: "CMallocInfo", path: "Tests/Helpers/CMallocInfo"),
        .testTarget(
            name: "SproutTests",
            dependencies: ["Sprout", "SproutTestSupport", "SproutTestJobs", "sprout-test-worker", "sprout-test-helper", "SproutHelperSupport", "CMallocInfo"]
        ),
        // Every code example of the seeds (the Python originals) as a Sprout twin,
        // `sprout-seed-twins NAME`; SeedTests runs each and checks what it prints.
        .executableTarget(
            name: "sprout-seed-twins",
            dependencies: ["Sprout", "SproutHTTP"],
            path: "Tests/Helpers/SeedTwins"
        ),
        .testTarget(
            name: "SeedTests",
            dependencies: ["Sprout", "SproutTestSupport", "sprout-seed-twins"]
        ),
        .executableTarget(
            name: "sprout-http-test-helper",
            dependencies: ["Sprout", "SproutHTTP", "SproutHelperSupport"],
            path: "Tests/Helpers/HTTPHelper"
        ),
        .testTarget(
            name: "SproutHTTPTests",
            dependencies: ["Sprout", "SproutTestSupport", "SproutHelperSupport", "SproutHTTP", "sprout-http-test-helper"]
        ),
        // libFuzzer targets for every parser of bytes from outside; `scripts/fuzz.sh TARGET
        // SECONDS` builds one with `--sanitize fuzzer --sanitize address` (libFuzzer supplies
        // `main` then) and runs it on its seed corpus in Fuzz/Corpus/TARGET. Not products; a
        // plain build only compiles them.
        .target(name: "FuzzSupport", path: "Fuzz/Support"),
        .executableTarget(
            name: "FuzzHTTPRequest",
            dependencies: ["SproutHTTP", "FuzzSupport"],
            path: "Fuzz/HTTPRequest"
        ),
        .executableTarget(
            name: "FuzzFrameReader",
            dependencies: ["Sprout", "FuzzSupport"],
            path: "Fuzz/FrameReader"
        ),
        .executableTarget(
            name: "FuzzJSONDecoder",
            dependencies: ["Sprout", "FuzzSupport"],
            path: "Fuzz/JSONDecoder"
        ),
        // Starts a PostgreSQL server in a temporary directory for a test suite.
        .target(
            name: "SproutPostgresTestSupport",
            dependencies: ["Sprout", "SproutTestSupport"],
            path: "Tests/Helpers/PostgresTestSupport"
        ),
        // A job queue worker host the queue tests start as a process of its own.
        .executableTarget(
            name: "sprout-queue-worker",
            dependencies: ["Sprout", "SproutPostgres", "SproutTestJobs", .product(name: "Logging", package: "swift-log")],
            path: "Tests/Helpers/QueueWorker"
        ),
        .testTarget(
            name: "SproutPostgresTests",
            dependencies: [
                "Sprout", "SproutPostgres", "SproutTestSupport", "SproutPostgresTestSupport", "SproutTestJobs",
                "sprout-queue-worker", .product(name: "Logging", package: "swift-log"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
