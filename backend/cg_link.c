/* Linking the model object with the runtime into a shared library: finds
 * libvitc_rt.a and runs the C compiler driver (no shell). */
#include "cg_ctx.h"
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

/* Whether path names an existing regular file we can read. */
static int cg_readable(const char *path) { return path && *path && access(path, R_OK) == 0; }

/* The first of dir + rel[i] that is readable, in buf; NULL when none. */
static const char *cg_find_near(const char *exe, char *buf, size_t n) {
  static const char *const rel[] = {"/libvitc_rt.a", "/../lib/vitc/libvitc_rt.a", "/runtime/libvitc_rt.a"};
  const char *slash = strrchr(exe, '/');
  if (!slash) return NULL;
  size_t dir = (size_t)(slash - exe);
  for (size_t i = 0; i < sizeof rel / sizeof rel[0]; i++) {
    if (dir + strlen(rel[i]) >= n) continue;
    memmove(buf, exe, dir);
    strcpy(buf + dir, rel[i]);
    if (cg_readable(buf)) return buf;
  }
  return NULL;
}

/* Finds libvitc_rt.a: the option, $VITC_RUNTIME_LIB, next to the vitc executable (the build tree's
 * build/, an installed PREFIX/lib/vitc/), then the build tree's path compiled in (for the test
 * programs that link the backend). An installed vitc so never reads the build tree. */
static const char *cg_runtime_lib(const CompileOptions *o, char *buf, size_t n) {
  if (o->runtime_lib) return o->runtime_lib;
  const char *env = getenv("VITC_RUNTIME_LIB");
  if (env && *env) return env;
  char exe[4096];
  ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
  const char *near = NULL;
  if (len > 0) {
    exe[len] = 0;
    near = cg_find_near(exe, buf, n);
  }
  if (near) return near;
#ifdef VITC_RUNTIME_LIB
  if (cg_readable(VITC_RUNTIME_LIB)) return VITC_RUNTIME_LIB;
#endif
  return NULL;
}

/* The first line of a file, for error messages (empty when unreadable). */
static void cg_first_line(const char *path, char *out, size_t n) {
  out[0] = 0;
  FILE *f = fopen(path, "r");
  if (!f) return;
  if (fgets(out, (int)n, f)) out[strcspn(out, "\n")] = 0;
  fclose(f);
}

/* Runs the compiler driver with argv (argv[0] is the driver), its output to a log whose first line
 * becomes the error message; out names the file it makes. */
static int cg_run_driver(char **argv, const char *out, Diag *d) {
  char log[4200], line[512];
  const char *cc = argv[0];
  snprintf(log, sizeof log, "%s.log", out);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_adddup2(&fa, 1, 2);
  pid_t pid;
  int rc = posix_spawnp(&pid, cc, &fa, NULL, argv, environ), status = 0;
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) {
    unlink(log);
    return ir_error(d, NULL, NULL, "cannot run the linker '%s': %s", cc, strerror(rc));
  }
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) {
      status = -1;
      break;
    }
  }
  cg_first_line(log, line, sizeof line);
  unlink(log);
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return 0;
  return ir_error(d, NULL, NULL, "linking %s failed (%s exit %d): %s", out, cc,
                  WIFEXITED(status) ? WEXITSTATUS(status) : -1, line[0] ? line : "no message");
}

/* The compiler driver: CompileOptions.cc, $VITC_CC, else cc. */
static const char *cg_driver(const CompileOptions *o) {
  return o->cc ? o->cc : getenv("VITC_CC") ? getenv("VITC_CC") : "cc";
}

int cg_link(const CompileOptions *o, const char *object, const char *weights, int huge, const char *so_path, Diag *d) {
  char libbuf[4096];
  const char *rt = cg_runtime_lib(o, libbuf, sizeof libbuf);
  if (!cg_readable(rt))
    return ir_error(d, NULL, NULL, "cannot find the runtime library libvitc_rt.a%s%s (set VITC_RUNTIME_LIB)",
                    rt ? " at " : "", rt ? rt : "");
  if (o->verbose) fprintf(stderr, "vitc: compile: runtime library %s\n", rt);
  /* The whole archive: nothing in the object refers to the exported entry points. */
  char *argv[] = {(char *)cg_driver(o), "-shared", "-o", (char *)so_path, (char *)object, (char *)weights,
                  "-Wl,--whole-archive", (char *)rt, "-Wl,--no-whole-archive", "-lm", "-lpthread",
                  "-Wl,-z,noexecstack", "-Wl,--no-undefined", huge ? "-Wl,-z,max-page-size=0x200000" : NULL, NULL};
  return cg_run_driver(argv, so_path, d);
}

int cg_link_objects(const CompileOptions *o, const char *object, const char *weights, const char *out, Diag *d) {
  char *argv[] = {(char *)cg_driver(o), "-r", "-nostdlib", "-o", (char *)out, (char *)object, (char *)weights, NULL};
  return cg_run_driver(argv, out, d);
}
