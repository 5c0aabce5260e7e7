/* The differential backend test (test_backend_ops.c): seeded random cases and
 * zero-size cases per op (backend_ops_cases.c), each a small IR graph compiled
 * to a .so and compared with the reference interpreter. */
#ifndef VITC_BACKEND_OPS_H
#define VITC_BACKEND_OPS_H

#include <stddef.h>
#include <stdint.h>

/* A splitmix64 generator: cases and their data are reproducible. */
typedef struct Rng {
  uint64_t s;
} Rng;
uint64_t rng_next(Rng *r);
/* Uniform in [lo, hi]. */
int64_t rng_int(Rng *r, int64_t lo, int64_t hi);

/* One case: IR text without the header line. Inputs whose names start with
 * "c_" become constants holding random data (weights, constant indices).
 * Integer data (inputs and c_ constants) is drawn from [int_lo, int_hi], 0
 * left out when int_nonzero (so that they can divide); f32 data is k/64 for k
 * in [-128, 128], so that equal values occur; bools are 0 or 1. */
typedef struct Case {
  char text[16384];
  size_t len;
  int64_t int_lo, int_hi;
  int int_nonzero;
} Case;
void case_put(Case *cs, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* How far the compiled result may be from the interpreter's: |got - want| <= atol + rtol * |want|. */
typedef enum TolFamily {
  TOL_EXACT,  /* data movement, integers, comparisons, correctly rounded f32 arithmetic */
  TOL_MATH,   /* transcendental functions: exp, erf, tanh, sigmoid, gelu, pow */
  TOL_REDUCE, /* sums in another order: reductions, softmax, layer_norm */
  TOL_LINALG, /* long dot products: matmul, gemm, conv, linear, attention */
} TolFamily;

typedef struct OpCases {
  const char *op; /* IR name */
  TolFamily tol;
  int n_cases;
  void (*gen)(Case *cs, Rng *r, int k); /* writes case k */
} OpCases;

extern const OpCases backend_op_cases[];
extern const int backend_n_op_cases;

/* The zero-size cases: a dimension of 0 somewhere in each; every node output's
 * type is stated in the text and must be what inference gives. */
extern const OpCases backend_zero_cases[];
extern const int backend_n_zero_cases;

#endif
