/* Status code descriptions, shared by the model runtime and the loader. */
#include "rt.h"

const char *rt_status_string(int status) {
  static const char *const text[VITC_STATUS_COUNT] = {
    [VITC_OK] = "ok",
    [VITC_ERR_ARG] = "invalid argument",
    [VITC_ERR_NOMEM] = "out of memory",
    [VITC_ERR_ABI] = "ABI version mismatch",
    [VITC_ERR_OPEN] = "cannot load the model file",
    [VITC_ERR_SYMBOL] = "not a vitc model",
    [VITC_ERR_CPU] = "this CPU lacks an instruction set the model was compiled for",
    [VITC_ERR_INDEX] = "an index input was out of range (the outputs are not valid)",
  };
  return status >= 0 && status < VITC_STATUS_COUNT ? text[status] : "unknown status";
}
