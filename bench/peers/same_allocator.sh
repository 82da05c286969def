# Sourced by the bench scripts that time a PyTorch peer. qforge's main() keeps freed memory in the process
# (mallopt: no mmap for large blocks, no heap trimming) because on this VM glibc's defaults page-fault every
# step's buffers in again, which made training steps 2-3x slower. PyTorch gets the same allocator setting
# through glibc's tunables, so the two are timed like for like (it makes the peer faster, not slower).
export GLIBC_TUNABLES=glibc.malloc.mmap_max=0:glibc.malloc.trim_threshold=2147483647
