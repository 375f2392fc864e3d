#ifndef SPROUT_CSPROUTLINUX_SHIM_H
#define SPROUT_CSPROUTLINUX_SHIM_H
// Linux calls Swift's Glibc module does not import (variadic, or declared only with
// _GNU_SOURCE / in <sys/pidfd.h>): the fork server's process handling and shared memory
// (memfd, seals) need them.
#include <errno.h>
#include <fcntl.h>
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
#ifndef F_ADD_SEALS
#define F_ADD_SEALS 1033
#define F_GET_SEALS 1034
#endif
#ifndef F_SEAL_SHRINK
#define F_SEAL_SHRINK 0x0002
#define F_SEAL_GROW 0x0004
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

extern char **environ;

/// Makes `table` (pointers to `NAME=value` strings, ended by NULL) the process's whole
/// environment, as it is: Swift imports `environ` read-only. Call it after clearenv(), so
/// the C library frees nothing of its own later.
static inline void sprout_set_environ(char **table) {
    environ = table;
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

/// A new anonymous memory file (memfd) that can be sealed, closed on exec: it lives in no
/// file system, so the kernel frees it with its last descriptor and mapping, however its
/// processes end. Its descriptor, or -1 and errno.
static inline int sprout_memfd_create(const char *name) {
    return (int)syscall(SYS_memfd_create, name, 0x0001U /* MFD_CLOEXEC */ | 0x0002U /* MFD_ALLOW_SEALING */);
}

/// Fixes the size of memfd `fd` for good (seals it against shrinking and growing): no
/// process can then cut the memory from under another's mapping. 0, or -1 and errno.
static inline int sprout_seal_size(int fd) {
    return fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW);
}

/// 1 if `fd` is a memfd whose size is sealed, 0 if it is one whose size is not, -1 and
/// errno (EINVAL) if it is no memfd (a plain file has no seals).
static inline int sprout_size_is_sealed(int fd) {
    int seals = fcntl(fd, F_GET_SEALS);
    if (seals < 0) return -1;
    return (seals & (F_SEAL_SHRINK | F_SEAL_GROW)) == (F_SEAL_SHRINK | F_SEAL_GROW);
}

#endif
