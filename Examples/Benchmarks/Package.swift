// swift-tools-version: 6.3
// Sprout's microbenchmarks on ordo-one/benchmark (package-benchmark):
//   cd Examples/Benchmarks && swift package --disable-sandbox benchmark
// The side-by-side comparisons with the Python peers live in bench/compare.
import PackageDescription

let package = Package(
    name: "SproutBenchmarks",
    dependencies: [
        .package(name: "Sprout", path: "../.."),
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        .executableTarget(
            name: "HubBenchmarks",
            dependencies: [
                .product(name: "Sprout", package: "Sprout"),
                .product(name: "Benchmark", package: "benchmark"),
            ],
            path: "Benchmarks/HubBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
    ],
    swiftLanguageModes: [.v6]
)
