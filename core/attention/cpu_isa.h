// Which vector instruction set the CPU kernels run (the quantized products in core/model and
// the tiled attention in core/attention): the best the CPU supports, capped by
// ATTNLAB_ISA=scalar|avx2 or force_isa, so one machine can check every path.
#pragma once

#include <string>

namespace core {

// Kernel paths, slowest first. Avx2 means AVX2 + FMA + F16C; Avx512 adds F/BW/VL/DQ.
enum class Isa { Scalar, Avx2, Avx512 };
Isa best_isa();
Isa current_isa();
void force_isa(Isa isa);        // clamped to best_isa()
const char* isa_name(Isa isa);  // "scalar", "avx2", "avx512": ATTNLAB_ISA's values

// What is wrong with ATTNLAB_ISA ("" when it is unset, empty or one of isa_name's values): a
// misspelt cap would silently run, and test, another path, so the app and the CLI refuse to
// start on one (exit 2).
std::string isa_env_error();

}  // namespace core
