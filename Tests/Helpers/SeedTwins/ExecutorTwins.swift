import Sprout

import Glibc

/// `task(name)` of seed 003: prints the name, sleeps.
struct PrintName: ProcessJob {
    var name: String
    func run() -> Done {
        print("name", name)
        usleep(UInt32(seedSleep * 1e6))
        return Done()
    }
}

/// `piao(name, n)` of seed 003: prints the name and the worker's pid, sleeps, returns n².
struct Piao: ProcessJob {
    var name: String
    var n: Int
    func run() -> Int {
        print("\(name) is piaoing \(getpid())")
        usleep(UInt32(seedSleep * 1e6))
        return n * n
    }
}

/// `cube(x)` of seed 004.
struct Cube: ProcessJob {
    var x: Int
    func run() -> Int { x * x * x }
}

/// `concurrent.futures.ProcessPoolExecutor` in seeds 003 and 004: a `ProcessPool`, whose
/// `submit` is the executor's and whose `shutdown(wait:)` is too.
let executorTwins: [String: @Hub @Sendable () async throws -> Void] = [
    "executor-shutdown-wait": {
        let ex = try await ProcessPool(workers: 2)
        for i in 0..<5 { _ = try ex.submit(PrintName(name: "safly\(i)")) }
        try await ex.shutdown(wait: true)
        print("main")
    },
    "executor-submit-sync": {
        let p = try await ProcessPool(workers: 2)
        for i in 0..<5 {
            let res = try await p.submit(Piao(name: "safly \(i)", n: i)).get()   // 同步调用
            print(res)
        }
        try await p.shutdown(wait: true)
        print("主", getpid())
    },
    "executor-submit-async": {
        let p = try await ProcessPool(workers: 2)
        var objs: [JobHandle<Int>] = []
        for i in 0..<5 {
            objs.append(try p.submit(Piao(name: "safly \(i)", n: i)))   // 异步调用
        }
        try await p.shutdown(wait: true)
        print("主", getpid())
        for obj in objs { print(try await obj.get()) }
    },
    // `with ProcessPoolExecutor(max_workers=3) as executor:` submit, then map.
    "executor-with": {
        try await withProcessPool(workers: 3) { executor in
            let future = try executor.submit(Cube(x: 3))
            print(try await future.get())
            print(try await executor.map([1, 2, 3].map(Cube.init)))
        }
    },
]
