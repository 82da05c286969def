// The C API over qfrt::Model. No exception crosses it: every failure becomes -1 / NULL and a
// message in qf_last_error().
#include <new>
#include <string>

#include "core/error.h"
#include "graph/model.h"
#include "pack/inspect.h"
#include "pack/qfp.h"
#include "qforge_rt/qforge_rt.h"

struct qf_model {
  qfrt::Model model;
};

namespace {
thread_local std::string g_error;

template <class F> auto guarded(F f, decltype(f()) on_error) -> decltype(f()) {
  try {
    g_error.clear();
    return f();
  } catch (const std::bad_alloc&) {
    g_error = "out of memory";
  } catch (const std::exception& e) {
    g_error = e.what();
  } catch (...) {
    g_error = "unknown error";
  }
  return on_error;
}
}  // namespace

extern "C" {

qf_model* qf_load(const char* path) {
  return guarded([&]() -> qf_model* {
    if (!path) qfrt::fail("qf_load: path is NULL");
    return new qf_model{qfrt::Model(path)};
  }, nullptr);
}

int qf_run(qf_model* m, const float* in, const int64_t* shape, int rank, float* out, size_t out_capacity, int64_t* out_shape,
           int* out_rank) {
  if (out_rank) *out_rank = 0;
  return guarded([&]() -> int {
    if (!m || !in || (!shape && rank > 0) || !out_shape || !out_rank) qfrt::fail("qf_run: a required pointer is NULL");
    if (rank < 0 || rank > QF_MAX_RANK) qfrt::fail("qf_run: rank must be 0.." + std::to_string(QF_MAX_RANK));
    std::vector<qfrt::Tensor> xs;  // the input is copied once (run({x}) would copy it a second time)
    xs.emplace_back(qfrt::DType::F32, qfrt::Shape(shape, shape + rank));
    std::memcpy(xs[0].bytes.data(), in, xs[0].bytes.size());
    std::vector<qfrt::Tensor> y = m->model.run(xs);
    const qfrt::Tensor& t = y.at(0);
    if (t.dtype != qfrt::DType::F32) qfrt::fail(std::string("qf_run: the first output is ") + qfrt::dtype_name(t.dtype) + ", not float32");
    if (t.rank() > QF_MAX_RANK) qfrt::fail("qf_run: the output has rank above QF_MAX_RANK");
    *out_rank = t.rank();
    for (int i = 0; i < t.rank(); ++i) out_shape[i] = t.dim(i);
    if (static_cast<size_t>(t.numel()) > out_capacity)
      qfrt::fail("qf_run: the output needs " + std::to_string(t.numel()) + " floats, capacity is " + std::to_string(out_capacity));
    std::memcpy(out, t.bytes.data(), t.bytes.size());
    return 0;
  }, -1);
}

int qf_pack(const char* onnx_path, const char* out_path) {
  return guarded([&]() -> int {
    if (!onnx_path || !out_path) qfrt::fail("qf_pack: a path is NULL");
    qfrt::pack_onnx(onnx_path, out_path);
    return 0;
  }, -1);
}

const char* qf_inspect(const char* qfp_path) {
  static thread_local std::string report;
  return guarded([&]() -> const char* {
    if (!qfp_path) qfrt::fail("qf_inspect: the path is NULL");
    report = qfrt::inspect_qfp(qfp_path);
    return report.c_str();
  }, static_cast<const char*>(nullptr));
}

int qf_is_packed(const char* path) { return path && qfrt::is_qfp_file(path) ? 1 : 0; }

void qf_free(qf_model* m) { delete m; }

const char* qf_last_error(void) { return g_error.c_str(); }
}
