import Sprout
import SproutExamplesSupport
import SproutHTTP

import Glibc

// gevent's URL-fetch example on Sprout. With URLs: fetch them all at once, one greenlet
// each, printing every answer as it arrives. Without: the offline demo, sequential
// versus concurrent fetches from a local Sprout server whose pages answer after a delay.
let urls = Array(CommandLine.arguments.dropFirst())

if urls.isEmpty {
    try Hub.run { _ = try await FetchDemo.run(print: { print($0) }) }
    exit(0)
}

let failures = try Hub.run {
    let started = monotonicSeconds()
    let fetches = urls.map { url in
        spawn(name: url) { () -> Bool in
            let begin = monotonicSeconds()
            do {
                let response = try await HTTPClient.shared.get(url, timeout: 30)
                print("\(url)  \(response.status)  \(response.body.count) bytes  \(milliseconds(since: begin)) ms")
                return true
            } catch {
                print("\(url)  failed: \(error)  \(milliseconds(since: begin)) ms")
                return false
            }
        }
    }
    try await joinAll(fetches)
    print("\(urls.count) URLs in \(milliseconds(since: started)) ms")
    return fetches.filter { $0.value != true }.count
}
exit(failures == 0 ? 0 : 1)
