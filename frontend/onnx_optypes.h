#ifndef VITC_ONNX_OPTYPES_H
#define VITC_ONNX_OPTYPES_H
#include "ir.h"

/* What a model asks of vitc, read without importing it (the conformance runner's look before a case runs). */
typedef struct OnnxModelNeeds {
  /* The node op types the importer refuses: known() does not hold (Constant and Einsum, lowered at import,
   * always count as known) or another domain (named domain.op). Each once, sorted, ", "-separated. */
  char unknown_ops[512];
  int n_unknown;        /* how many */
  char not_tensor[300]; /* "input 'x' is a sequence" for the first graph input or output that is no tensor, or "" */
} OnnxModelNeeds;

/* Fills *need for the model at path; 0, or -1 with d filled when the file is unreadable. */
int onnx_model_needs(const char *path, int (*known)(const char *op_type), OnnxModelNeeds *need, Diag *d);
/* 1 when the model has no op the importer refuses (onnx_model_needs's
 * n_unknown is 0), 0 when it has, -1 with d filled when the file is unreadable. */
int onnx_all_ops_known(const char *path, int (*known)(const char *op_type), Diag *d);
#endif
