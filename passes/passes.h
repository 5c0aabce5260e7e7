/* The graph optimizer: a table of passes (passes.def) run in order, with the
 * verifier between passes when asked, and IR dumps around them. */
#ifndef VITC_PASSES_H
#define VITC_PASSES_H
#include <stdio.h>
#include "ir.h"

typedef enum PassId {
#define PASS(name, summary) PASS_##name,
#include "passes.def"
#undef PASS
  PASS_COUNT
} PassId;

typedef struct PassInfo {
  const char *name;
  const char *summary;
} PassInfo;
extern const PassInfo pass_table[PASS_COUNT];
int pass_from_name(const char *name); /* -1 when unknown */

/* What the options ask of the pipeline. */
typedef struct PassOptions {
  unsigned char disabled[PASS_COUNT];
  unsigned char print_before[PASS_COUNT], print_after[PASS_COUNT];
  int print_after_all;
  int verify_each;      /* run ir_verify after every pass (tests turn it on) */
  int time_passes;      /* print each pass's wall time to `dump` */
  int explain_fusion;   /* fusion passes report near misses to `dump` */
  Precision precision;  /* --precision: the format of the products the precision pass marks (fp32: none) */
  const char *keep_fp32; /* --keep-fp32: comma-separated shell patterns of node names that stay fp32 */
  FILE *dump;           /* where dumps, timings and explanations go (stderr by default) */
} PassOptions;

/* The memory plan (filled by plan_memory; the backend compiles to the same
 * plan). Offsets are bytes into one arena (the compiled model's workspace). */
typedef struct MemoryPlan {
  int64_t arena_bytes;        /* size of the one arena */
  int64_t lower_bound_bytes;  /* most bytes live at any one point of the final order */
  int64_t naive_bytes;        /* every intermediate and scratch block in its own buffer */
  int64_t *offset;            /* per value id: arena offset, -1 when not in the arena */
  int *alias;                 /* per value id: the value whose storage it is (a layout op's output: the
                                 first value of its chain of layout ops), else the id itself */
  int64_t *scratch;           /* per node index: arena offset of the node's scratch, -1 when none */
  int n_values, n_nodes;
} MemoryPlan;

/* Bytes of scratch memory node n needs while it runs (0 for most ops). */
typedef uint64_t (*PlanScratchFn)(const Node *n);

typedef struct PassCtx {
  const PassOptions *opt;
  MemoryPlan plan;            /* owned; freed by pass_ctx_free */
} PassCtx;

#define PASS(name, summary) int pass_##name(Graph *g, PassCtx *ctx, Diag *d);
#include "passes.def"
#undef PASS

/* The memory plan of g in its current node order, without running the pass
 * (the backend calls it with its own scratch rule, cg_scratch_bytes; NULL:
 * no scratch); out's arrays are malloc'd: plan_memory_free. */
int plan_memory_compute(const Graph *g, PlanScratchFn scratch, MemoryPlan *out, Diag *d);
void plan_memory_free(MemoryPlan *p);
/* The backend kernels' scratch sizes without the backend (attention: qkv and
 * k^T packed in panels of 32 tokens); the pass and `vitc ir --stats` use it. */
uint64_t plan_scratch_bytes(const Node *n);
/* Whether v's data is known at compile time (a constant or a value shape inference computed). */
int plan_value_known(const Value *v);
/* Whether n runs at all: not removed, and some output is not known at compile time. */
int plan_node_runs(const Node *n);

/* Runs the enabled passes in table order. */
int passes_run(Graph *g, PassCtx *ctx, Diag *d);
void pass_ctx_free(PassCtx *ctx);

/* Explains a fusion near miss when --explain-fusion is on:
 * "explain: PATTERN at node 'NAME' (op): CONDITION". */
void pass_explain(const PassCtx *ctx, const char *pattern, const Node *at, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
