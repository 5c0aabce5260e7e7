/* Shape functions of the fused ops (ir/shape_fused.c); ir/shape.c's table
 * reaches them through its shape_<name> entries. */
#ifndef VITC_SHAPE_FUSED_H
#define VITC_SHAPE_FUSED_H
#include "ir.h"

int shape_fused_gelu(Node *n, Diag *d);
int shape_fused_linear(Node *n, Diag *d);
int shape_fused_attention(Node *n, Diag *d);

/* The activations `linear` accepts: "none", "gelu" (erf form), "gelu_tanh",
 * "quick_gelu" (x * sigmoid(1.702 x), CLIP), "silu" (x * sigmoid(x)) and
 * "relu" (max(x, 0), NaN kept). */
typedef enum LinearAct {
  LINEAR_ACT_NONE,
  LINEAR_ACT_GELU,
  LINEAR_ACT_GELU_TANH,
  LINEAR_ACT_QUICK_GELU,
  LINEAR_ACT_SILU,
  LINEAR_ACT_RELU,
  LINEAR_ACT_INVALID
} LinearAct;
/* The factor on x inside the sigmoid of "quick_gelu" (a float, as PyTorch's 1.702 * x). */
#define LINEAR_QUICK_GELU_ALPHA 1.702f
LinearAct linear_act_of(const Node *n);
/* gelu's `approximate`: 0 for "none" (erf), 1 for "tanh", -1 for anything else. */
int gelu_is_tanh(const Node *n);

#endif
