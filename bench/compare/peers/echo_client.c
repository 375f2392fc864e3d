/* The one load client for every TCP echo server: CLIENTS connections on one thread
 * (epoll), each doing ROUNDS round trips of SIZE bytes (write, then read the echo back).
 * Prints "ROUNDTRIPS <n> SECONDS <wall>" and exits non-zero on any error or short echo.
 *
 *     echo_client PORT [CLIENTS=100] [ROUNDS=1000] [SIZE=64]
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

struct conn { int fd; int rounds; int got; };

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

static void die(const char *what) { perror(what); exit(1); }

int main(int argc, char **argv) {
    if (argc < 2) { fprintf(stderr, "usage: echo_client PORT [CLIENTS] [ROUNDS] [SIZE]\n"); return 2; }
    int port = atoi(argv[1]);
    int clients = argc > 2 ? atoi(argv[2]) : 100;
    int rounds = argc > 3 ? atoi(argv[3]) : 1000;
    int size = argc > 4 ? atoi(argv[4]) : 64;
    char *message = malloc(size), *buffer = malloc(size);
    memset(message, 'x', size);
    struct conn *conns = calloc(clients, sizeof *conns);
    int ep = epoll_create1(0);
    struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons(port) };
    inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
    for (int i = 0; i < clients; i++) {
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        if (fd < 0) die("socket");
        if (connect(fd, (struct sockaddr *)&addr, sizeof addr) < 0) die("connect");
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        conns[i].fd = fd;
        struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &conns[i] };
        if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0) die("epoll_ctl");
    }
    double start = now();
    for (int i = 0; i < clients; i++)
        if (write(conns[i].fd, message, size) != size) die("write");
    int active = clients;
    long total = 0;
    struct epoll_event events[256];
    while (active > 0) {
        int n = epoll_wait(ep, events, 256, 10000);
        if (n == 0) { fprintf(stderr, "echo_client: no progress for 10 s\n"); return 1; }
        if (n < 0) { if (errno == EINTR) continue; die("epoll_wait"); }
        for (int e = 0; e < n; e++) {
            struct conn *c = events[e].data.ptr;
            ssize_t r = read(c->fd, buffer, size - c->got);
            if (r <= 0) { fprintf(stderr, "echo_client: connection ended early\n"); return 1; }
            c->got += r;
            if (c->got < size) continue;
            c->got = 0;
            total++;
            if (++c->rounds == rounds) { active--; continue; }
            if (write(c->fd, message, size) != size) die("write");
        }
    }
    double seconds = now() - start;
    for (int i = 0; i < clients; i++) close(conns[i].fd);
    printf("ROUNDTRIPS %ld SECONDS %.6f\n", total, seconds);
    return 0;
}
