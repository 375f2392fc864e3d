import Sprout

import Glibc

/// `add(end, name)` of seed 000: prints the name, returns 0 + 1 + … + end.
struct Add: ProcessJob {
    var end: Int
    var name: String
    func run() -> Int {
        print(name)
        return (0...end).reduce(0, +)
    }
}

/// `func` of seed 001: prints the child's and its parent's pids.
struct ReportIDs: ProcessJob {
    func run() -> Done {
        print("S2>>>当前子进程id:\(getpid()),它的父进程id:\(getppid())")
        return Done()
    }
}

/// The seed's module-level `count = 99`: each process has its own.
nonisolated(unsafe) var count = 99

/// `func` of seed 001's isolation example: changes the child's own `count`.
struct BumpCount: ProcessJob {
    func run() -> Done {
        count += 1
        print("当前子进程id:\(getpid())", count)
        return Done()
    }
}

/// `func(args)` of seed 001: prints the pids, then the argument.
struct EndWithArgument: ProcessJob {
    var argument: Int
    func run() -> Done {
        print("S2>>>当前子进程id:\(getpid()),它的父进程id:\(getppid())")
        print("end>>>", argument)
        return Done()
    }
}

/// `func(index)` of seed 001's join example.
struct SendMail: ProcessJob {
    var index: Int
    func run() -> Done {
        print("第\(index)封邮件发送...")
        return Done()
    }
}

/// `func1` of seed 001's daemon example: a line of stars every half period, forever.
struct Stars: ProcessJob {
    var period: Double
    func run() -> Done {
        var count = 1
        while true {
            print(String(repeating: "*", count: count))
            usleep(UInt32(period * 1e6))
            count += 1
        }
    }
}

/// `func2` of seed 001's daemon example.
struct SleepAndEnd: ProcessJob {
    var seconds: Double
    func run() -> Done {
        print("func2 start...")
        usleep(UInt32(seconds * 1e6))
        print("func2 end...")
        return Done()
    }
}

/// `MyProcess(Process)` of seed 001: a subclass with `run` is a job type with `run` here.
struct MyProcess: ProcessJob {
    var argument: String
    func run() -> Done {
        print(">>>子进程id:\(getpid()),父进程id:\(getppid())")
        print(argument)
        return Done()
    }
}

/// `task(name)` of seed 003: prints the name, then sleeps.
struct NameTask: ProcessJob {
    var name: String
    func run() -> Done {
        print("name", name)
        usleep(UInt32(seedSleep * 1e6))
        return Done()
    }
}

/// `foo(i)` of seed 004.
struct SayHi: ProcessJob {
    var i: Int
    func run() -> Done {
        print("say hi", i)
        return Done()
    }
}

/// Seeds 000, 001, 003 and 004: `Process`, `start`, `join`, daemons.
let processTwins: [String: @Hub @Sendable () async throws -> Void] = [
    "process-join": {
        let child = ChildProcess(Add(end: 100, name: "北门吹雪"), name: "北门吹雪")
        try child.start()
        try await child.join()
    },
    "process-ids": {
        print("S1>>>子进程id:\(getpid()),父进程id:\(getppid())")
        try ChildProcess(ReportIDs()).start()
    },
    "process-isolation": {
        let child = ChildProcess(BumpCount())
        try child.start()
        try await child.join()   // the seed sleeps 1 s "to let the child finish"
        print("主进程", count)
    },
    "ten-processes": {
        for index in 0..<10 { try ChildProcess(EndWithArgument(argument: index)).start() }
        print("主进程执行结束...")
    },
    "join-in-turn": {
        var children: [ChildProcess<SendMail>] = []
        for index in 0..<5 {
            let child = ChildProcess(SendMail(index: index))
            try child.start()
            children.append(child)
            try await child.join()
        }
        try await joinAll(children)
        print("发送最后一封邮件...")
    },
    "process-subclass": {
        var children: [ChildProcess<MyProcess>] = []
        for index in 0..<10 {
            let child = ChildProcess(MyProcess(argument: "参数:\(index)"))
            try child.start()
            children.append(child)
        }
        try await joinAll(children)
        print("最后打印子进程id", getppid())
    },
    // Seed 003: three processes started, then joined; they sleep at the same time.
    "three-processes": {
        let start = ContinuousClock.now
        let p1 = ChildProcess(NameTask(name: "safly1"))
        let p2 = ChildProcess(NameTask(name: "safly2"))
        let p3 = ChildProcess(NameTask(name: "safly3"))
        try p1.start()
        try p2.start()
        try p3.start()
        try await p1.join()
        try await p2.join()
        try await p3.join()
        print("main")
        let elapsed = start.duration(to: .now).components
        print(Double(elapsed.seconds) + Double(elapsed.attoseconds) / 1e18)
    },
    // Seed 004: ten processes, each says hi.
    "say-hi": {
        for i in 0..<10 { try ChildProcess(SayHi(i: i)).start() }
    },
    // The seed sleeps 0.5 s between stars, 2 s in func2 and 1 s in the main code.
    "daemon": {
        let stars = ChildProcess(Stars(period: 0.5), daemon: true, killGrace: 0.2)
        let func2 = ChildProcess(SleepAndEnd(seconds: 2))
        try stars.start()
        try func2.start()
        try await sleep(1)
        print("主进程代码执行完毕...")
    },
]
