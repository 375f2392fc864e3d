import Sprout
import SproutExamplesSupport

// Sprout's main demo, run by scripts/demo.sh: greenlets for waiting (the URL-fetch demo
// on a local server), processes for computing (a short CPU-offload comparison), and what
// this run's numbers say about both. Pool workers and the HTTP load client are this same
// program started again: both hand over before anything else runs.
try ProcessPool.serveIfWorker(jobs: offloadJobs)
try LoadClient.runIfRequested()

// `--short`: the same steps on a smaller scale (a few seconds), as the examples' tests run it.
let short = CommandLine.arguments.dropFirst().contains("--short")
let chart = "sprout-demo.svg"
let (fetch, report) = try Hub.run {
    print("== 1. Waiting: fetching pages one after another, then all at once in greenlets\n")
    let fetch = try await FetchDemo.run(pages: short ? 5 : 10, delay: short ? 0.05 : 0.2, print: { print($0) })

    print("\n== 2. Computing: the same CPU work inline on the hub, on threads and in worker processes\n")
    let experiment = OffloadExperiment(workload: PrimeWorkload(limit: short ? 200_000 : 1_500_000, pieces: 8),
                                       workers: ProcessPool.cpuCount, duration: short ? 0.5 : 3, rate: 200, nice: 10)
    let report = try await OffloadRun.run(experiment, modes: OffloadMode.allCases)
    return (fetch, report)
}
try OffloadChart.write(report, title: "Sprout demo: the same CPU work five ways", to: chart)
print("\nchart: \(chart)")

print("\n== What this run showed\n")
for line in DemoVerdict(fetch: fetch, report: report).lines { print("- " + line) }
