#ifndef SPROUT_CSPROUTLINUX_SHIM_H
#define SPROUT_CSPROUTLINUX_SHIM_H
// Linux calls Swift's Glibc module does not import (variadic, or declared only with
// _GNU_SOURCE / in <sys/pidfd.h>): the fork server's process handling needs them.
#include <errno.h>
#include <signal.h>
#include <sched.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef CLONE_PARENT
#define CLONE_PARENT 0x00008000
#endif
#ifndef P_PIDFD
#define P_PIDFD 3
#endif

/// The calling thread's kernel id (the blocked-hub report reads the hub thread's
/// /proc/self/task/<tid>/syscall).
static inline pid_t sprout_gettid(void) {
    return (pid_t)syscall(SYS_gettid);
}

/// A descriptor that refers to process `pid` (its exit makes it readable); -1 and errno on failure.
static inline int sprout_pidfd_open(pid_t pid) {
    return (int)syscall(SYS_pidfd_open, pid, 0);
}

/// Sends `sig` to the process `pidfd` refers to: no pid-reuse race. 0, or -1 and errno.
static inline int sprout_pidfd_send_signal(int pidfd, int sig) {
    return (int)syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0);
}

/// Forks this process as a sibling: the new process's parent is this process's parent
/// (CLONE_PARENT), which reaps it and gets its SIGCHLD; this process's death leaves it
/// where it is. Like fork(), returns 0 in the new process, its pid here, or -1 and errno.
/// The raw clone skips glibc's fork handlers: call it only while this process has one thread.
static inline pid_t sprout_fork_sibling(void) {
    return (pid_t)syscall(SYS_clone, (unsigned long)(CLONE_PARENT | SIGCHLD), NULL, NULL, NULL, 0UL);
}

/// Closes every descriptor from `lowest` up.
static inline int sprout_close_from(int lowest) {
    return (int)syscall(SYS_close_range, (unsigned)lowest, ~0U, 0);
}

/// Reaps the child `pidfd` refers to if it has exited: 1 with *signal (0 when it exited) and
/// *code set, 0 while it runs, -1 and errno (ECHILD when it is not this process's child).
static inline int sprout_reap_pidfd(int pidfd, int *signal, int *code) {
    siginfo_t info;
    info.si_pid = 0;
    if (waitid((idtype_t)P_PIDFD, (id_t)pidfd, &info, WEXITED | WNOHANG) != 0) return -1;
    if (info.si_pid == 0) return 0;
    if (info.si_code == CLD_EXITED) {
        *signal = 0;
        *code = info.si_status;
    } else {
        *signal = info.si_status;
        *code = 0;
    }
    return 1;
}
#endif
