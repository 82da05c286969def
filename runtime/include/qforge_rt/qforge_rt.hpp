// C++ wrapper over the C API: RAII model, exceptions for errors.
#pragma once
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "qforge_rt/qforge_rt.h"

namespace qforge_rt {

struct Error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Packs an int8 QDQ ONNX file into a .qfp (qf_pack); throws Error with the reason.
inline void pack(const std::string& onnx_path, const std::string& out_path) {
  if (qf_pack(onnx_path.c_str(), out_path.c_str()) != 0) throw Error(qf_last_error());
}

// A packed file's per-layer bits and bytes (qf_inspect); throws Error with the reason.
inline std::string inspect(const std::string& qfp_path) {
  const char* r = qf_inspect(qfp_path.c_str());
  if (!r) throw Error(qf_last_error());
  return r;
}
inline bool is_packed(const std::string& path) { return qf_is_packed(path.c_str()) != 0; }

class Model {
 public:
  explicit Model(const std::string& path) : m_(qf_load(path.c_str())) {
    if (!m_) throw Error(qf_last_error());
  }
  ~Model() { qf_free(m_); }
  Model(const Model&) = delete;
  Model& operator=(const Model&) = delete;
  Model(Model&& o) noexcept : m_(o.m_) { o.m_ = nullptr; }

  // Runs on x with the given shape; returns the first output, its shape in out_shape.
  std::vector<float> run(const std::vector<float>& x, const std::vector<int64_t>& shape, std::vector<int64_t>& out_shape) {
    std::vector<float> y(out_capacity_);
    int64_t s[QF_MAX_RANK];
    int rank = 0;
    for (int attempt = 0; attempt < 2; ++attempt) {
      if (qf_run(m_, x.data(), shape.data(), static_cast<int>(shape.size()), y.data(), y.size(), s, &rank) == 0) {
        out_shape.assign(s, s + rank);
        size_t n = 1;
        for (int i = 0; i < rank; ++i) n *= static_cast<size_t>(s[i]);
        y.resize(n);
        return y;
      }
      if (rank <= 0) break;  // not a capacity problem
      size_t n = 1;
      for (int i = 0; i < rank; ++i) n *= static_cast<size_t>(s[i]);
      out_capacity_ = n;
      y.assign(n, 0.f);
    }
    throw Error(qf_last_error());
  }

 private:
  qf_model* m_;
  size_t out_capacity_ = 1 << 16;
};

}  // namespace qforge_rt
