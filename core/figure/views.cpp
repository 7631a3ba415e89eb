#include "core/figure/views.h"

#include <cmath>

namespace fig {

const std::vector<ViewId>& view_ids() {
  static const std::vector<ViewId> kIds = {ViewId::Mask, ViewId::ReceptiveField, ViewId::Ring,
                                           ViewId::Groups, ViewId::KvMemory};
  return kIds;
}

const char* view_name(ViewId id) {
  switch (id) {
    case ViewId::Mask:
      return "mask";
    case ViewId::ReceptiveField:
      return "receptive_field";
    case ViewId::Ring:
      return "ring";
    case ViewId::Groups:
      return "groups";
    case ViewId::KvMemory:
      return "kv_memory";
  }
  return "mask";
}

const char* view_title(ViewId id) {
  switch (id) {
    case ViewId::Mask:
      return "Attention mask";
    case ViewId::ReceptiveField:
      return "Receptive field across layers";
    case ViewId::Ring:
      return "Rolling-buffer KV cache";
    case ViewId::Groups:
      return "Grouped-query attention: head groups";
    case ViewId::KvMemory:
      return "KV-cache memory";
  }
  return "";
}

std::optional<ViewId> parse_view(std::string_view name) {
  for (ViewId id : view_ids())
    if (name == view_name(id)) return id;
  return std::nullopt;
}

FigureSize resolve_size(FigureSize want, float default_width, float default_height) {
  return {want.width > 0 ? want.width : default_width,
          want.height > 0 ? want.height : default_height};
}

Figure build_view_figure(ViewId id, const core::Scene& scene, const Theme& theme) {
  return build_view_figure(id, scene, theme, FigureSize{});
}

Figure build_view_figure(ViewId id, const core::Scene& scene, const Theme& theme, FigureSize size) {
  switch (id) {
    case ViewId::Mask:
      return figure_mask(scene, theme, size);
    case ViewId::ReceptiveField:
      return figure_receptive_field(scene, theme, size);
    case ViewId::Ring:
      return figure_ring(scene, theme, size);
    case ViewId::Groups:
      return figure_groups(scene, theme, size);
    case ViewId::KvMemory:
      return figure_kv_memory(scene, theme, size);
  }
  return figure_mask(scene, theme, size);
}

std::optional<HeatmapCell> heatmap_cell_at(const Heatmap& h, float x, float y) {
  if (h.rows <= 0 || h.cols <= 0 || h.w <= 0 || h.h <= 0) return std::nullopt;
  const float fx = (x - h.x) / h.w, fy = (y - h.y) / h.h;
  if (!(fx >= 0 && fx < 1 && fy >= 0 && fy < 1)) return std::nullopt;
  return HeatmapCell{static_cast<int>(std::floor(fy * h.rows)),
                     static_cast<int>(std::floor(fx * h.cols))};
}

const Heatmap* find_heatmap(const Figure& f, int id) {
  for (const Mark& m : f.marks)
    if (const Heatmap* h = std::get_if<Heatmap>(&m); h && h->id == id) return h;
  return nullptr;
}

}  // namespace fig
