/* libFuzzer target: bytes as a .npy file (npy_parse, what `vitc run --input` reads). */
#include "npy.h"
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  Tensor t = {0};
  Diag d = {0};
  if (npy_parse(data, size, "fuzz.npy", &t, &d) == 0) free(t.data);
  return 0;
}
