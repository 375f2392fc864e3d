/* The floor for a process round trip: two processes bouncing one byte over two pipes.
   Usage: pipe_pingpong N; prints RESULT <µs per round trip>.
   Measures wall time per round trip over N rounds after 200 warm-up rounds, as
   sprout-bench-pool pool-roundtrip and mp_pool.py roundtrip do. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>

int main(int argc, char **argv) {
    int rounds = argc > 1 ? atoi(argv[1]) : 20000;
    int there[2], back[2];
    if (pipe(there) || pipe(back)) return 1;
    pid_t child = fork();
    char byte = 0;
    if (child < 0) return 1;
    if (child == 0) {
        close(there[1]);
        close(back[0]);
        while (read(there[0], &byte, 1) == 1) write(back[1], &byte, 1);
        _exit(0);
    }
    close(there[0]);
    close(back[1]);
    for (int i = 0; i < 200; i++) { write(there[1], &byte, 1); read(back[0], &byte, 1); }
    struct timespec start, end;
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (int i = 0; i < rounds; i++) { write(there[1], &byte, 1); read(back[0], &byte, 1); }
    clock_gettime(CLOCK_MONOTONIC, &end);
    close(there[1]);
    waitpid(child, NULL, 0);
    double micros = ((end.tv_sec - start.tv_sec) * 1e9 + (end.tv_nsec - start.tv_nsec)) / 1e3 / rounds;
    printf("RESULT %f\n", micros);
    return 0;
}
