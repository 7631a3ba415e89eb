// Figure builders of the efficient-attention views (part 6): FlashAttention tiling,
// PagedAttention, Multi-head Latent Attention and sparse patterns. One file each,
// figure_<view>.cpp, with the signature every view figure has.
#pragma once

#include "core/figure/figure.h"
#include "core/figure/theme.h"
#include "core/figure/views.h"
#include "core/scene/scene.h"

namespace fig {

Figure figure_flash(const core::Scene& scene, const Theme& theme, FigureSize size = {});
Figure figure_paged(const core::Scene& scene, const Theme& theme, FigureSize size = {});
Figure figure_mla(const core::Scene& scene, const Theme& theme, FigureSize size = {});
Figure figure_sparse(const core::Scene& scene, const Theme& theme, FigureSize size = {});

// Titles the figures use when the scene has none.
inline constexpr const char* kFlashTitle = "FlashAttention: tiles, online softmax, HBM traffic";
inline constexpr const char* kPagedTitle = "PagedAttention: block table and physical blocks";
inline constexpr const char* kMlaTitle = "Multi-head Latent Attention: what is cached";
inline constexpr const char* kSparseTitle = "Sparse attention: Longformer and BigBird";

// Most tiles the flash figure draws one by one; beyond it shows the counts only.
inline constexpr int64_t kFlashMaxDrawnTiles = 8192;

}  // namespace fig
