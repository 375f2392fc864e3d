/* A fixed-count keep-alive HTTP load client, for counts that must not depend on time (wrk
 * runs for a duration): CLIENTS connections on one thread (epoll), each sending ROUNDS
 * `GET /` requests one after another and reading each answer whole (head, then a body of
 * its Content-Length). Prints "REQUESTS <n> SECONDS <wall>"; exits non-zero on any error,
 * a status other than 200 or an answer without Content-Length.
 *
 *     http_load PORT [CLIENTS=20] [ROUNDS=1000]
 */
#define _GNU_SOURCE  /* memmem */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum { BUFFER = 65536 };
struct conn { int fd; int rounds; size_t have; char buffer[BUFFER]; };
static const char request[] = "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

static void die(const char *what) { perror(what); exit(1); }

static void send_request(struct conn *c) {
    if (write(c->fd, request, sizeof request - 1) != (ssize_t)(sizeof request - 1)) die("write");
}

/* The length of the first whole answer in the buffer, or 0 while it is incomplete. */
static size_t answer_length(struct conn *c) {
    char *end = memmem(c->buffer, c->have, "\r\n\r\n", 4);
    if (!end) return 0;
    size_t head = (size_t)(end - c->buffer) + 4;
    if (strncmp(c->buffer, "HTTP/1.1 200", 12) != 0) { fprintf(stderr, "http_load: not 200\n"); exit(1); }
    long body = -1;
    for (char *line = c->buffer; line < end; line = strstr(line, "\r\n") + 2)
        if (strncasecmp(line, "content-length:", 15) == 0) body = strtol(line + 15, NULL, 10);
    if (body < 0) { fprintf(stderr, "http_load: answer without Content-Length\n"); exit(1); }
    return c->have >= head + (size_t)body ? head + (size_t)body : 0;
}

int main(int argc, char **argv) {
    if (argc < 2) { fprintf(stderr, "usage: http_load PORT [CLIENTS] [ROUNDS]\n"); return 2; }
    int port = atoi(argv[1]);
    int clients = argc > 2 ? atoi(argv[2]) : 20;
    int rounds = argc > 3 ? atoi(argv[3]) : 1000;
    struct conn *conns = calloc(clients, sizeof *conns);
    if (!conns) die("calloc");
    int ep = epoll_create1(0);
    struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons(port) };
    inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
    for (int i = 0; i < clients; i++) {
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        if (fd < 0) die("socket");
        if (connect(fd, (struct sockaddr *)&addr, sizeof addr) < 0) die("connect");
        conns[i].fd = fd;
        struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &conns[i] };
        if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0) die("epoll_ctl");
    }
    double start = now();
    for (int i = 0; i < clients; i++) send_request(&conns[i]);
    int active = clients;
    long total = 0;
    struct epoll_event events[256];
    while (active > 0) {
        int n = epoll_wait(ep, events, 256, 10000);
        if (n == 0) { fprintf(stderr, "http_load: no progress for 10 s\n"); return 1; }
        if (n < 0) { if (errno == EINTR) continue; die("epoll_wait"); }
        for (int e = 0; e < n; e++) {
            struct conn *c = events[e].data.ptr;
            ssize_t r = read(c->fd, c->buffer + c->have, BUFFER - c->have);
            if (r <= 0) { fprintf(stderr, "http_load: connection ended early\n"); return 1; }
            c->have += (size_t)r;
            size_t length;
            while ((length = answer_length(c)) > 0) {
                memmove(c->buffer, c->buffer + length, c->have - length);
                c->have -= length;
                total++;
                if (++c->rounds == rounds) { active--; break; }
                send_request(c);
            }
        }
    }
    double seconds = now() - start;
    for (int i = 0; i < clients; i++) close(conns[i].fd);
    printf("REQUESTS %ld SECONDS %.6f\n", total, seconds);
    return 0;
}
