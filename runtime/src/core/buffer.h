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

// Long-lived arrays the kernels stream with 64-byte loads (packed weights): 64-byte aligned, so no row of a
// tile or vector load straddles two cache lines. Plain new/delete underneath, no recycling.
template <class T> struct AlignedAllocator {
  using value_type = T;
  static constexpr std::align_val_t kAlign{64};
  AlignedAllocator() = default;
  template <class U> AlignedAllocator(const AlignedAllocator<U>&) noexcept {}
  T* allocate(size_t n) { return static_cast<T*>(::operator new(n * sizeof(T), kAlign)); }
  void deallocate(T* p, size_t) noexcept { ::operator delete(p, kAlign); }
  template <class U> bool operator==(const AlignedAllocator<U>&) const noexcept { return true; }
  template <class U> bool operator!=(const AlignedAllocator<U>&) const noexcept { return false; }
};

}  // namespace qfrt
