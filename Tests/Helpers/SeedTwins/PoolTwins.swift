import Sprout

import Glibc

let blog = "https://www.cnblogs.com/2bjiujiu/"

/// `add(end, name, blog)` of seed 000's `apply_async`.
struct AddAndPrint: ProcessJob {
    var end: Int
    var name: String
    var blog: String
    func run() -> Int {
        let total = (0...end).reduce(0, +)
        print(name, total, blog)
        return total
    }
}

/// `add(info)` of seed 000's `imap`: one tuple argument.
struct AddInfo: ProcessJob {
    var end: Int
    var name: String
    var blog: String
    func run() -> Int {
        print(end, name, blog)
        return (0...end).reduce(0, +)
    }
}

/// `Foo(i)` of seed 004: sleeps, returns i + 100.
struct Foo: ProcessJob {
    var i: Int
    func run() -> Int {
        usleep(UInt32(seedSleep * 1e6))
        return i + 100
    }
}

/// `square(x)` of seed 004.
struct Square: ProcessJob {
    var x: Int
    func run() -> Int { x * x }
}

/// `multiply(a, b)` of seed 004's joblib example (and seed 002's starmap).
struct Multiply: ProcessJob {
    var a: Int
    var b: Int
    func run() -> Int { a * b }
}

/// `multiprocessing.Pool` in seeds 000, 002 and 004.
let poolTwins: [String: @Hub @Sendable () async throws -> Void] = [
    "pool-apply-async": {
        let pool = try await ProcessPool(workers: ProcessPool.cpuCount)
        let r = try pool.submit(AddAndPrint(end: 100, name: "北门吹雪", blog: blog))
        print(try await r.get())
        print(r.isReady)
        print(r.isSuccessful)
        pool.close()
        try await pool.join()
    },
    "pool-imap": {
        let pool = try await ProcessPool(workers: ProcessPool.cpuCount)
        let info = [AddInfo(end: 100, name: "北门吹雪", blog: blog), AddInfo(end: 200, name: "北门吹雪", blog: blog)]
        for try await total in pool.imap(info) {
            print(total)
        }
        pool.close()
        try await pool.join()
    },
    // `apply_async(func=Foo, args=(i,), callback=Bar)`: the callback gets the outcome.
    "pool-apply-async-callback": {
        let pool = try await ProcessPool(workers: 5)
        for i in 0..<10 {
            try pool.submit(Foo(i: i)) { result in
                if case .success(let arg) = result { print(arg) }   // Bar(arg)
            }
        }
        print("end")
        pool.close()
        try await pool.join()
    },
    // `with Pool(processes=4) as pool:` map, then apply_async(...).get().
    "with-pool": {
        try await withProcessPool(workers: 4) { pool in
            print(try await pool.map([1, 2, 3, 4].map(Square.init)))
            print(try await pool.submit(Square(x: 5)).get())
        }
    },
    // Seed 002: several arguments per call go through `starmap`.
    "pool-starmap": {
        try await withProcessPool(workers: 2) { pool in
            print(try await pool.starmap([(1, 2), (3, 4), (5, 6)]) { a, b in Multiply(a: a, b: b) })
        }
    },
    // joblib's `Parallel(n_jobs=4)(delayed(multiply)(i, i+1) for i in range(5))`.
    "joblib-parallel": {
        print(try await runInParallel((0..<5).map { Multiply(a: $0, b: $0 + 1) }, workers: 4))
    },
]
