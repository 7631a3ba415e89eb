// The benchmark's OpenBLAS sgemm (Sgemm/*, the f32 reference the quantized GEMM is compared
// with; the runtime itself calls no BLAS). OpenBLAS picks its kernels by CPUID when it loads. Debian's 0.3.21 does not know recent
// Xeons (Sapphire Rapids in a VM reports a plain "Intel Xeon Processor") and falls back to
// its SSE3 "Prescott" kernels, 3-4x slower at sgemm than the AVX-512 ones the CPU can run.
#pragma once

#include <string>

namespace bench {

// Once per process: when OpenBLAS chose a generic core although the CPU has AVX-512
// (SkylakeX kernels) or AVX2+FMA (Haswell kernels), re-runs OpenBLAS's own core selection
// with that core (its OPENBLAS_CORETYPE override). Does nothing when the user set
// OPENBLAS_CORETYPE or ATTNLAB_OPENBLAS_TUNE=0, when OpenBLAS is not a DYNAMIC_ARCH build,
// or when it chose well. Results change in the last bits (other kernels, other summation
// order), which deep layers of a model with a narrowed window amplify.
// Returns the core OpenBLAS uses afterwards.
std::string tune_openblas();

}  // namespace bench
