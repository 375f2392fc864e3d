import Sprout

/// Every job type the twins send to worker processes.
let seedJobs: [any ProcessJob.Type] = [
    Add.self, ReportIDs.self, BumpCount.self, EndWithArgument.self, SendMail.self, Stars.self, SleepAndEnd.self,
    MyProcess.self, AddAndPrint.self, AddInfo.self, Foo.self, Square.self, Multiply.self, Cube.self, PrintName.self, Piao.self,
    AddToQueue.self, AddToPipe.self, QueueWorker.self, AddToList.self, ReturnIntoDictionary.self, FooWithLock.self,
    NameTask.self, SayHi.self, SetInArray.self, SetInDictionary.self, SquareList.self,
]

/// Seconds the twins sleep where the seeds sleep 1 or 2 s: the output is the same, the
/// test suite is faster.
let seedSleep = 0.2

/// What a job sends back when the seed's function returns nothing (Python's `None`).
struct Done: Codable, Sendable {}
