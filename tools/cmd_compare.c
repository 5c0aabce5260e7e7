/* `vitc compare GOT.npy WANT.npy [--atol X]`: prints `max_abs_err E` and fails
 * when the shapes differ or E exceeds the tolerance (default 1e-4). */
#include "cli.h"
#include "npy.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Largest |a - b| over all elements, as doubles; NaN anywhere counts as infinite. */
static double max_abs_err(const Tensor *a, const Tensor *b) {
  double worst = 0;
  int64_t n = tensor_numel(a);
  for (int64_t i = 0; i < n; i++) {
    double x = a->dtype == DT_F32 ? ((float *)a->data)[i] : (double)tensor_get_i64(a, i);
    double y = b->dtype == DT_F32 ? ((float *)b->data)[i] : (double)tensor_get_i64(b, i);
    double e = fabs(x - y);
    if (isnan(e)) e = INFINITY;
    if (e > worst) worst = e;
  }
  return worst;
}

int cmd_compare(int argc, char **argv) {
  const char *files[2] = {0};
  int nf = 0;
  double atol = 1e-4;
  for (int i = 0; i < argc; i++) {
    if (strcmp(argv[i], "--atol") == 0 && i + 1 < argc) {
      char *end;
      atol = strtod(argv[++i], &end);
      if (*end || !(atol >= 0)) return fprintf(stderr, "vitc: error: compare: bad --atol '%s'\n", argv[i]), 2;
    } else if (argv[i][0] != '-' && nf < 2) {
      files[nf++] = argv[i];
    } else {
      return fprintf(stderr, "vitc: error: compare: unexpected argument '%s'\n", argv[i]), 2;
    }
  }
  if (nf != 2) return fprintf(stderr, "vitc: error: compare: needs two .npy files\n"), 2;
  Diag d = {0};
  Tensor a = {0}, b = {0};
  int rc = npy_read(files[0], &a, &d) || npy_read(files[1], &b, &d);
  if (!rc && !tensor_same_type(&a, &b)) {
    char s1[128], s2[128];
    rc = ir_error(&d, NULL, NULL, "compare: %s is %s but %s is %s", files[0], tensor_type_str(&a, s1, sizeof s1), files[1],
                  tensor_type_str(&b, s2, sizeof s2));
  }
  double e = 0;
  if (!rc) {
    e = max_abs_err(&a, &b);
    printf("max_abs_err %.3g\n", e);
    if (!(e <= atol)) rc = ir_error(&d, NULL, NULL, "compare: max_abs_err %.3g exceeds %.3g", e, atol);
  }
  free(a.data);
  free(b.data);
  return rc ? cli_fail(&d) : 0;
}
