/* cpu_probe.c: how much of a second core is free right now.
 *
 *   build: gcc -O2 -pthread cpu_probe.c -o cpu_probe
 *   run:   cpu_probe
 *
 * Runs a fixed amount of ALU work (a dependent multiply/xor-shift chain that
 * stays in registers: no memory traffic) on one thread for about 100 ms, then
 * the same total work split over two threads, and prints the speedup:
 *
 *   RESULT cpu_probe_2thr_speedup 1.87 x
 *
 * 2.0 means two free cores, 1.0 means the second core is busy with other
 * work. The work size is calibrated first (about 10 ms), so the whole run
 * takes about 0.2-0.3 s on any machine. Exits 1 if a thread cannot be
 * started, 2 (with a usage message) if given any argument.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

/* Every chain's result is added here, so the compiler must compute it. */
static volatile uint64_t sink;

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The ALU loop: each step depends on the previous one (a 64-bit LCG step
 * followed by an xor-shift), so it can be neither vectorised nor folded, and
 * its time is proportional to iters. */
static uint64_t alu_chain(uint64_t x, uint64_t iters) {
  for (uint64_t i = 0; i < iters; ++i) {
    x = x * 6364136223846793005ULL + 1442695040888963407ULL;
    x ^= x >> 29;
  }
  return x;
}

struct job {
  uint64_t seed, iters;
};

static void *run_job(void *arg) {
  const struct job *j = arg;
  sink += alu_chain(j->seed, j->iters);
  return NULL;
}

/* Runs `iters` steps split evenly over `threads` threads and returns the wall
 * time in seconds, or a negative value if a thread could not be started. */
static double timed_run(int threads, uint64_t iters) {
  pthread_t tid[2];
  struct job jobs[2];
  const double t = now_s();
  for (int i = 0; i < threads; ++i) {
    jobs[i].seed = 7919u + (uint64_t)i;
    jobs[i].iters = iters / (uint64_t)threads;
    if (pthread_create(&tid[i], NULL, run_job, &jobs[i]) != 0) {
      for (int k = 0; k < i; ++k) pthread_join(tid[k], NULL);
      return -1.0;
    }
  }
  for (int i = 0; i < threads; ++i) pthread_join(tid[i], NULL);
  return now_s() - t;
}

int main(int argc, char **argv) {
  (void)argv;
  if (argc != 1) {
    fprintf(stderr, "usage: cpu_probe (no arguments)\n");
    return 2;
  }
  /* Calibrate: grow the work until one run takes at least 10 ms, then scale
   * it to about 100 ms on one thread. */
  uint64_t iters = 1u << 16;
  double t = 0;
  for (;;) {
    const double t0 = now_s();
    sink += alu_chain(iters, iters);
    t = now_s() - t0;
    if (t >= 0.01) break;
    iters *= 2;
  }
  iters = (uint64_t)((double)iters * (0.1 / t));
  iters -= iters % 2; /* splits evenly over two threads */

  const double one = timed_run(1, iters);
  const double two = timed_run(2, iters);
  if (one <= 0 || two <= 0) {
    fprintf(stderr, "cpu_probe: could not start a thread\n");
    return 1;
  }
  printf("RESULT cpu_probe_2thr_speedup %.2f x\n", one / two);
  return 0;
}
