import Glibc

// The helper program of SproutHTTPTests, one check per mode (the first argument):
//   (none)        a client and a server leave no descriptor behind; exit 0 when so
//   resolve URL   a request to URL fails with HTTPError.couldNotResolve; exit 0 when so
//   keep-alive PORT COUNT
//                 COUNT keep-alive connections to 127.0.0.1:PORT, all open together, each
//                 answered twice; exit 0 when so

let arguments = Array(CommandLine.arguments.dropFirst())
switch arguments.first {
case nil:
    exit(try everyDescriptorIsClosed() ? 0 : 1)
case "resolve" where arguments.count == 2:
    exit(try failsToResolve(arguments[1]) ? 0 : 1)
case "keep-alive" where arguments.count == 3:
    guard let port = Int(arguments[1]), let count = Int(arguments[2]) else { exit(2) }
    exit(try keepAliveClients(port: port, count: count) ? 0 : 1)
default:
    print("usage: sprout-http-test-helper [resolve URL | keep-alive PORT COUNT]")
    exit(2)
}
