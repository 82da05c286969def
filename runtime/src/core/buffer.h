// Tensor storage: 64-byte aligned, not zero-filled, and recycled through a per-thread cache of
// power-of-two blocks, so a model run does not page-fault fresh memory for every intermediate
// tensor (profiled: a quarter of a small ResNet-20 run went to page faults and zero-filling).
#pragma once
#include <cstddef>
#include <new>
#include <utility>

namespace qfrt {

void* buffer_alloc(size_t bytes);
void buffer_free(void* p, size_t bytes);

template <class T> struct RecyclingAllocator {
  using value_type = T;
  RecyclingAllocator() = default;
  template <class U> RecyclingAllocator(const RecyclingAllocator<U>&) noexcept {}
  T* allocate(size_t n) { return static_cast<T*>(buffer_alloc(n * sizeof(T))); }
  void deallocate(T* p, size_t n) noexcept { buffer_free(p, n * sizeof(T)); }
  // resize() default-initializes: no zero fill (every op writes all of its output).
  template <class U> void construct(U* p) noexcept { ::new (static_cast<void*>(p)) U; }
  template <class U, class... A> void construct(U* p, A&&... a) { ::new (static_cast<void*>(p)) U(std::forward<A>(a)...); }
  template <class U> bool operator==(const RecyclingAllocator<U>&) const noexcept { return true; }
  template <class U> bool operator!=(const RecyclingAllocator<U>&) const noexcept { return false; }
};

}  // namespace qfrt
