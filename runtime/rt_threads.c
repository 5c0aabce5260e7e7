/* The default thread count of a session: $VITC_NUM_THREADS when it is a whole
 * number from 1 (anything else is ignored; at most 256), else the CPUs this
 * thread may run on (sched_getaffinity, which taskset and container cpusets
 * narrow) capped by the cgroup CPU quota (v2 cpu.max or v1 cfs_quota_us of
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

/* The quota file's limit in threads: cgroup v2's cpu.max, or v1's cfs_quota_us over cfs_period_us. */
static int rt_quota_file(const char *dir, int v1) {
  char path[1300], text[128];
  FILE *c;
  if (!v1) {
    snprintf(path, sizeof path, "%s/cpu.max", dir);
    if (!(c = fopen(path, "r"))) return 0;
    int n = fgets(text, sizeof text, c) ? rt_cpu_max_threads(text) : 0;
    fclose(c);
    return n;
  }
  long long quota = -1, period = 0;
  snprintf(path, sizeof path, "%s/cpu.cfs_quota_us", dir);
  if ((c = fopen(path, "r"))) quota = fscanf(c, "%lld", &quota) == 1 ? quota : -1, fclose(c);
  snprintf(path, sizeof path, "%s/cpu.cfs_period_us", dir);
  if ((c = fopen(path, "r"))) period = fscanf(c, "%lld", &period) == 1 ? period : 0, fclose(c);
  if (quota <= 0 || period <= 0) return 0;
  snprintf(text, sizeof text, "%lld %lld", quota, period);
  return rt_cpu_max_threads(text);
}

/* The smallest quota from the cgroup directory root + rel up to root; 0 when none. */
static int rt_quota_path(const char *root, const char *rel, int v1) {
  char path[1200];
  int limit = 0;
  snprintf(path, sizeof path, "%s%s", root, rel);
  size_t root_len = strlen(root);
  for (;;) {
    int n = rt_quota_file(path, v1);
    if (n > 0 && (limit == 0 || n < limit)) limit = n;
    char *slash = strrchr(path, '/');
    if (!slash || (size_t)(slash - path) < root_len) break;
    *slash = 0;
  }
  return limit;
}

/* Whether the comma-separated controller list [list, end) names controller. */
static int rt_has_controller(const char *list, const char *end, const char *controller) {
  size_t n = strlen(controller);
  for (const char *p = list; p < end;) {
    const char *comma = memchr(p, ',', (size_t)(end - p));
    const char *stop = comma ? comma : end;
    if ((size_t)(stop - p) == n && strncmp(p, controller, n) == 0) return 1;
    p = stop + 1;
  }
  return 0;
}

/* The smallest CPU quota on the way from this process's cgroup to the root: cgroup v2 (mounted at
 * /sys/fs/cgroup, or /sys/fs/cgroup/unified on hybrid hosts) and v1's cpu controller; 0 when none. */
static int rt_cgroup_threads(void) {
  FILE *f = fopen("/proc/self/cgroup", "r");
  if (!f) return 0;
  char line[1024];
  int limit = 0;
  while (fgets(line, sizeof line, f)) {
    line[strcspn(line, "\n")] = 0;
    char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
    if (!c2) continue;
    int n = 0;
    if (c2 == c1 + 1) { /* "0::/path": v2 */
      n = rt_quota_path("/sys/fs/cgroup", c2 + 1, 0);
      int u = rt_quota_path("/sys/fs/cgroup/unified", c2 + 1, 0);
      if (u > 0 && (n == 0 || u < n)) n = u;
    } else if (rt_has_controller(c1 + 1, c2, "cpu")) { /* "N:cpu,cpuacct:/path": v1 */
      n = rt_quota_path("/sys/fs/cgroup/cpu", c2 + 1, 1);
      int a = rt_quota_path("/sys/fs/cgroup/cpu,cpuacct", c2 + 1, 1);
      if (a > 0 && (n == 0 || a < n)) n = a;
    }
    if (n > 0 && (limit == 0 || n < limit)) limit = n;
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
