/* qforge_rt: integer inference runtime for quantized ONNX (QDQ) models. C API.
 *
 *   qf_model* m = qf_load("model.onnx");            // NULL on error: see qf_last_error()
 *   int64_t shape[4] = {1, 1, 28, 28}, out_shape[QF_MAX_RANK];
 *   int out_rank;
 *   if (qf_run(m, x, shape, 4, y, y_capacity, out_shape, &out_rank) != 0) puts(qf_last_error());
 *   qf_free(m);
 *
 * One float32 input (NCHW as in the ONNX file), the first graph output as float32. A model is not
 * safe to run from two threads at once; load one per thread. Kernels are chosen from the CPU's
 * features, or by the environment variable QFORGE_RT_ISA=scalar|avx2|avx512vnni. */
#ifndef QFORGE_RT_H
#define QFORGE_RT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define QF_MAX_RANK 8

typedef struct qf_model qf_model;

/* Loads, checks and prepares an ONNX file or a packed .qfp (told apart by content). NULL on error
 * (truncated, corrupt, version mismatch, unsupported op...). */
qf_model* qf_load(const char* path);

/* Runs the model on in (shape[0..rank-1]). Writes the first output to out (at most out_capacity
 * floats), its shape to out_shape (QF_MAX_RANK entries) and its rank to out_rank.
 * Returns 0, or -1 with qf_last_error() set (also when out_capacity is too small). */
int qf_run(qf_model* model, const float* in, const int64_t* shape, int rank, float* out, size_t out_capacity,
           int64_t* out_shape, int* out_rank);

void qf_free(qf_model* model);

/* Packs an int8 QDQ ONNX file into one .qfp file (weights at their real bit width: int8, int4, int2,
 * ternary, binary). Writes out_path.tmpPID and renames it, so out_path is never half written.
 * Returns 0, or -1 with qf_last_error() set. */
int qf_pack(const char* onnx_path, const char* out_path);

/* A packed .qfp's per-layer table (layer, op, bits, weights, bytes) and its size and overhead lines, as
 * `qforge-rt inspect` prints them; valid until the next qf_inspect on this thread. NULL with
 * qf_last_error() set when path is not a readable .qfp. */
const char* qf_inspect(const char* qfp_path);

/* 1 when the file starts like a packed .qfp (a safetensors header), else 0. */
int qf_is_packed(const char* path);

/* The message of the last failed call on this thread ("" when none). */
const char* qf_last_error(void);

#ifdef __cplusplus
}
#endif

#endif
