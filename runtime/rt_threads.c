/* The default thread count of a session: $VITC_NUM_THREADS when set, else
 * the CPUs this thread may run on (sched_getaffinity, which taskset and
 * container cpusets narrow) capped by the cgroup v2 CPU quota (cpu.max of
 * this process's cgroup and its ancestors: a container limited to 1.5 CPUs
 * gets 2 threads, not one per host core). */
#include "rt.h"
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int rt_cpu_max_threads(const char *text) {
  char quota[32];
  long long period = 0;
  if (!text || sscanf(text, "%31s %lld", quota, &period) != 2 || period <= 0) return 0;
  if (strcmp(quota, "max") == 0) return 0;
  char *end;
  long long q = strtoll(quota, &end, 10);
  if (*end || q <= 0) return 0;
  long long n = (q + period - 1) / period; /* a fraction of a CPU still needs a thread */
  return n > RT_MAX_THREADS ? RT_MAX_THREADS : (int)n;
}

/* The smallest cpu.max limit on the way from this process's cgroup v2 to the root; 0 when none. */
static int rt_cgroup_threads(void) {
  FILE *f = fopen("/proc/self/cgroup", "r");
  if (!f) return 0;
  char line[1024], path[1200], text[128];
  int limit = 0;
  while (fgets(line, sizeof line, f)) {
    if (strncmp(line, "0::", 3) != 0) continue; /* the v2 hierarchy */
    line[strcspn(line, "\n")] = 0;
    snprintf(path, sizeof path, "/sys/fs/cgroup%s", line + 3);
    for (;;) {
      size_t len = strlen(path);
      if (len + 9 >= sizeof path) break;
      strcpy(path + len, "/cpu.max");
      FILE *c = fopen(path, "r");
      path[len] = 0;
      if (c) {
        int n = fgets(text, sizeof text, c) ? rt_cpu_max_threads(text) : 0;
        fclose(c);
        if (n > 0 && (limit == 0 || n < limit)) limit = n;
      }
      char *slash = strrchr(path, '/');
      if (!slash || slash <= path + strlen("/sys/fs/cgroup")) break;
      *slash = 0;
    }
  }
  fclose(f);
  return limit;
}

int rt_default_threads(void) {
  const char *env = getenv("VITC_NUM_THREADS");
  if (env && *env) {
    char *end;
    long n = strtol(env, &end, 10);
    if (!*end && n >= 1) return n > RT_MAX_THREADS ? RT_MAX_THREADS : (int)n;
  }
  int n = 0;
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof set, &set) == 0) n = CPU_COUNT(&set);
  if (n <= 0) {
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    n = cpus > 0 ? (int)cpus : 1;
  }
  int quota = rt_cgroup_threads();
  if (quota > 0 && quota < n) n = quota;
  return n > RT_MAX_THREADS ? RT_MAX_THREADS : n;
}
