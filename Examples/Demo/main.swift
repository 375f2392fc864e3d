import Sprout

// The seeds' gevent example: two greenlets that hand over control with sleep(0).
let order = try Hub.run {
    var lines: [String] = []
    let foo = spawn(name: "foo") {
        print("Running in foo")
        try await sleep(0)
        print("Explicit context switch to foo again")
    }
    let bar = spawn(name: "bar") {
        print("Explicit context to bar")
        try await sleep(0)
        print("Implicit context switch back to bar")
    }
    try await joinAll([foo, bar])
    lines.append("done")
    return lines
}
print(order.joined())
