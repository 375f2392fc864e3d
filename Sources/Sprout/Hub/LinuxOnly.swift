// Sprout runs on Linux only, and this is the one place that tells the compiler: the hub and
// the process pool are built on epoll (through libuv), timerfd, `/proc/self/exe`,
// `SOCK_SEQPACKET` and robust process-shared mutexes. Every other file imports Glibc as is.
#if !os(Linux)
#error("Sprout runs on Linux only: it needs epoll, timerfd, /proc/self/exe, SOCK_SEQPACKET and robust mutexes")
#endif
