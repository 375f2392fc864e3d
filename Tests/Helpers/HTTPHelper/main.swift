import Glibc

// The helper program of SproutHTTPTests, one check per mode (the first argument):
//   (none)        a client and a server leave no descriptor behind; exit 0 when so
//   resolve URL   a request to URL fails with HTTPError.couldNotResolve; exit 0 when so

let arguments = Array(CommandLine.arguments.dropFirst())
switch arguments.first {
case nil:
    exit(try everyDescriptorIsClosed() ? 0 : 1)
case "resolve" where arguments.count == 2:
    exit(try failsToResolve(arguments[1]) ? 0 : 1)
default:
    print("usage: sprout-http-test-helper [resolve URL]")
    exit(2)
}
