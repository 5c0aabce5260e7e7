#ifndef VITC_ONNX_OPTYPES_H
#define VITC_ONNX_OPTYPES_H
#include "ir.h"
/* 1 when known(op_type) holds for every node of the model (Constant always
 * counts as known), 0 when not, -1 with d filled when the file is unreadable. */
int onnx_all_ops_known(const char *path, int (*known)(const char *op_type), Diag *d);
#endif
