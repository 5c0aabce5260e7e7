/* `vitc peak [--threads N]`: this machine's measured single-precision FMA peak (tools/peak.c), the
 * yardstick of `make bench` and --profile's "% of peak". Prints `peak_gflops X threads N isa NAME`. */
#include "cli.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cmd_peak(int argc, char **argv) {
  int threads = 1;
  for (int i = 0; i < argc; i++) {
    char *end;
    if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc && (threads = (int)strtol(argv[++i], &end, 10)) >= 1 &&
        threads <= 64 && !*end)
      continue;
    fprintf(stderr, "vitc: error: peak: expected --threads N (1 to 64), got '%s'\n", argv[i]);
    return 2;
  }
  const char *isa;
  double gf = cli_fma_peak_gflops(threads, &isa);
  printf("peak_gflops %.1f threads %d isa %s\n", gf, threads, isa);
  return 0;
}
