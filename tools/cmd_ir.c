/* `vitc ir MODEL [--stats] [load options]`: prints the IR text form or op counts. */
#include "cli.h"
#include <stdio.h>
#include <string.h>

int cmd_ir(int argc, char **argv) {
  Diag d = {0};
  LoadOptions lo = {0};
  const char *model = NULL;
  int stats = 0;
  for (int i = 0; i < argc; i++) {
    int used = cli_load_option(argc, argv, &i, &lo, &d);
    if (used < 0) {
      cli_load_options_free(&lo);
      return cli_fail(&d);
    }
    if (used) continue;
    if (strcmp(argv[i], "--stats") == 0) stats = 1;
    else if (argv[i][0] == '-' || model) {
      cli_load_options_free(&lo);
      fprintf(stderr, "vitc: error: ir: unexpected argument '%s' (see vitc --help)\n", argv[i]);
      return 2;
    } else model = argv[i];
  }
  if (!model) {
    cli_load_options_free(&lo);
    fprintf(stderr, "vitc: error: ir: missing MODEL\n");
    return 2;
  }
  Graph *g = cli_load(model, &lo, &d);
  cli_load_options_free(&lo);
  if (!g) return cli_fail(&d);
  if (stats) ir_print_stats(g, stdout);
  else ir_print(g, stdout);
  ir_graph_free(g);
  return 0;
}
