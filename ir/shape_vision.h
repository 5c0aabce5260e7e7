/* Shape functions of the convolutional-network ops issue 12 adds (ir/shape_vision.c): BatchNormalization,
 * ArgMax/ArgMin, TopK, Resize. ir/shape.c's table reaches them through its shape_<name> entries. */
#ifndef VITC_SHAPE_VISION_H
#define VITC_SHAPE_VISION_H
#include "ir.h"

int shape_vision_batch_norm(Node *n, Diag *d);
int shape_vision_arg(Node *n, Diag *d);
int shape_vision_top_k(Node *n, Diag *d);
int shape_vision_resize(Node *n, Diag *d);

#endif
