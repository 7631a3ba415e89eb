#include "app/gl_heatmap.h"

#include <GL/gl.h>
#include <GL/glext.h>
#include <imgui.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <vector>

#include "app/shader_sources.h"
#include "core/figure/colormap.h"

namespace app {
namespace {

unsigned int compile(GLenum type, const char* src, std::string& log) {
  const GLuint s = glCreateShader(type);
  glShaderSource(s, 1, &src, nullptr);
  glCompileShader(s);
  GLint ok = 0;
  glGetShaderiv(s, GL_COMPILE_STATUS, &ok);
  if (!ok) {
    char buf[2048] = {0};
    glGetShaderInfoLog(s, sizeof buf, nullptr, buf);
    log += buf;
    glDeleteShader(s);
    return 0;
  }
  return s;
}

// Sets our program, uniforms and vertex layout for the image command that follows; ImGui's
// ResetRenderState callback restores its own afterwards.
void bind_heatmap_program(const ImDrawList*, const ImDrawCmd* cmd) {
  const auto* t = static_cast<const HeatmapTexture*>(cmd->UserCallbackData);
  const GlHeatmaps& h = *t->owner;
  const ImDrawData* dd = ImGui::GetDrawData();
  const float l = dd->DisplayPos.x, r = dd->DisplayPos.x + dd->DisplaySize.x;
  const float top = dd->DisplayPos.y, b = dd->DisplayPos.y + dd->DisplaySize.y;
  const float proj[16] = {
      2.0f / (r - l),        0, 0, 0, 0, 2.0f / (top - b), 0, 0, 0, 0, -1, 0, (r + l) / (l - r),
      (top + b) / (b - top), 0, 1};
  glUseProgram(h.program);
  glUniformMatrix4fv(h.loc_proj, 1, GL_FALSE, proj);
  glUniform1i(h.loc_values, 0);
  glUniform1i(h.loc_lut, 1);
  glUniform1f(h.loc_vmin, t->vmin);
  glUniform1f(h.loc_vmax, t->vmax);
  glUniform1f(h.loc_gamma, t->gamma);
  glUniform1i(h.loc_scale, static_cast<int>(t->scale));
  glUniform4f(h.loc_masked, t->masked.r, t->masked.g, t->masked.b, t->masked.a);
  glActiveTexture(GL_TEXTURE1);
  glBindTexture(GL_TEXTURE_2D, h.luts[static_cast<int>(t->cmap)]);
  glActiveTexture(GL_TEXTURE0);  // the image command binds the value texture here
  const GLsizei stride = sizeof(ImDrawVert);
  glEnableVertexAttribArray(h.attr_pos);
  glVertexAttribPointer(h.attr_pos, 2, GL_FLOAT, GL_FALSE, stride,
                        reinterpret_cast<void*>(offsetof(ImDrawVert, pos)));
  glEnableVertexAttribArray(h.attr_uv);
  glVertexAttribPointer(h.attr_uv, 2, GL_FLOAT, GL_FALSE, stride,
                        reinterpret_cast<void*>(offsetof(ImDrawVert, uv)));
  glEnableVertexAttribArray(h.attr_color);
  glVertexAttribPointer(h.attr_color, 4, GL_UNSIGNED_BYTE, GL_TRUE, stride,
                        reinterpret_cast<void*>(offsetof(ImDrawVert, col)));
}

void upload(HeatmapTexture& t, const fig::Heatmap& m, int max_texture) {
  // A grid wider or taller than the GL limit (a 131072-slot ring) is sampled at the centre of
  // each group of cells; it is drawn a few thousand pixels wide at most, so nothing visible
  // is lost.
  const int fx = (m.cols + max_texture - 1) / max_texture,
            fy = (m.rows + max_texture - 1) / max_texture;
  const int cols = (m.cols + fx - 1) / fx, rows = (m.rows + fy - 1) / fy;
  std::vector<float> rg(static_cast<size_t>(rows) * cols * 2);
  for (int r = 0; r < rows; ++r) {
    const int sr = std::min(r * fy + fy / 2, m.rows - 1);
    for (int c = 0; c < cols; ++c) {
      const int sc = std::min(c * fx + fx / 2, m.cols - 1);
      const size_t src = static_cast<size_t>(sr) * m.cols + sc;
      const float v = src < m.values.size() ? m.values[src] : std::nanf("");
      const bool masked = std::isnan(v);
      const size_t dst = (static_cast<size_t>(r) * cols + c) * 2;
      rg[dst] = masked ? 0.0f : v;
      rg[dst + 1] = masked ? 1.0f : 0.0f;
    }
  }
  if (t.texture == 0) glGenTextures(1, &t.texture);
  glBindTexture(GL_TEXTURE_2D, t.texture);
  glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MIN_FILTER, GL_NEAREST);
  glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MAG_FILTER, GL_NEAREST);
  glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_WRAP_S, GL_CLAMP_TO_EDGE);
  glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_WRAP_T, GL_CLAMP_TO_EDGE);
  glPixelStorei(GL_UNPACK_ALIGNMENT, 4);
  glPixelStorei(GL_UNPACK_ROW_LENGTH, 0);
  glTexImage2D(GL_TEXTURE_2D, 0, GL_RG32F, cols, rows, 0, GL_RG, GL_FLOAT, rg.data());
  t.rows = m.rows;
  t.cols = m.cols;
}

}  // namespace

bool gl_heatmaps_init(GlHeatmaps& h) {
  h.error.clear();
  const GLuint vs = compile(GL_VERTEX_SHADER, kHeatmapVertexShader, h.error);
  const GLuint fs = compile(GL_FRAGMENT_SHADER, kHeatmapFragmentShader, h.error);
  if (!vs || !fs) return false;
  h.program = glCreateProgram();
  glAttachShader(h.program, vs);
  glAttachShader(h.program, fs);
  glLinkProgram(h.program);
  glDeleteShader(vs);
  glDeleteShader(fs);
  GLint ok = 0;
  glGetProgramiv(h.program, GL_LINK_STATUS, &ok);
  if (!ok) {
    char buf[2048] = {0};
    glGetProgramInfoLog(h.program, sizeof buf, nullptr, buf);
    h.error = buf;
    return false;
  }
  GLint max_tex = 0;
  glGetIntegerv(GL_MAX_TEXTURE_SIZE, &max_tex);
  if (max_tex > 0) h.max_texture = max_tex;
  h.loc_proj = glGetUniformLocation(h.program, "ProjMtx");
  h.loc_values = glGetUniformLocation(h.program, "Values");
  h.loc_lut = glGetUniformLocation(h.program, "Lut");
  h.loc_vmin = glGetUniformLocation(h.program, "VMin");
  h.loc_vmax = glGetUniformLocation(h.program, "VMax");
  h.loc_gamma = glGetUniformLocation(h.program, "Gamma");
  h.loc_scale = glGetUniformLocation(h.program, "Scale");
  h.loc_masked = glGetUniformLocation(h.program, "Masked");
  h.attr_pos = glGetAttribLocation(h.program, "Position");
  h.attr_uv = glGetAttribLocation(h.program, "UV");
  h.attr_color = glGetAttribLocation(h.program, "Color");

  const fig::Colormap maps[3] = {fig::Colormap::Viridis, fig::Colormap::Cividis,
                                 fig::Colormap::Diverging};
  glGenTextures(3, h.luts);
  for (int i = 0; i < 3; ++i) {
    const fig::ColormapLut& lut = fig::colormap_lut(maps[i]);
    unsigned char px[256 * 4];
    for (int k = 0; k < 256; ++k) {
      const fig::Rgba c = lut[k];
      const float ch[4] = {c.r, c.g, c.b, c.a};
      for (int j = 0; j < 4; ++j)
        px[4 * k + j] = static_cast<unsigned char>(std::lround(ch[j] * 255.0f));
    }
    glBindTexture(GL_TEXTURE_2D, h.luts[i]);
    glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MIN_FILTER, GL_NEAREST);
    glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MAG_FILTER, GL_NEAREST);
    glPixelStorei(GL_UNPACK_ROW_LENGTH, 0);
    glTexImage2D(GL_TEXTURE_2D, 0, GL_RGBA8, 256, 1, 0, GL_RGBA, GL_UNSIGNED_BYTE, px);
  }
  return true;
}

void gl_heatmaps_shutdown(GlHeatmaps& h) {
  for (auto& [key, t] : h.textures)
    if (t->texture) glDeleteTextures(1, &t->texture);
  h.textures.clear();
  if (h.luts[0]) glDeleteTextures(3, h.luts);
  if (h.program) glDeleteProgram(h.program);
  h.program = 0;
}

void gl_heatmaps_end_frame(GlHeatmaps& h) {
  ++h.frame;
  for (auto it = h.textures.begin(); it != h.textures.end();) {
    if (h.frame - it->second->last_used_frame > 120) {
      if (it->second->texture) glDeleteTextures(1, &it->second->texture);
      it = h.textures.erase(it);
    } else {
      ++it;
    }
  }
}

void draw_heatmap(GlHeatmaps& h, ImDrawList* dl, const fig::Heatmap& m, const std::string& key,
                  uint64_t version, float x0, float y0, float x1, float y1) {
  if (m.rows <= 0 || m.cols <= 0 || h.program == 0) return;
  std::unique_ptr<HeatmapTexture>& slot = h.textures[key];
  if (!slot) slot = std::make_unique<HeatmapTexture>();
  HeatmapTexture& t = *slot;
  if (t.texture == 0 || t.version != version || t.rows != m.rows || t.cols != m.cols) {
    upload(t, m, h.max_texture);
    t.version = version;
    ++h.uploads;
  }
  t.last_used_frame = h.frame;
  t.owner = &h;
  t.cmap = m.cmap;
  t.scale = m.scale;
  t.vmin = m.vmin;
  t.vmax = m.vmax;
  t.gamma = m.gamma;
  t.masked = m.masked;
  dl->AddCallback(bind_heatmap_program, &t);
  dl->AddImage(reinterpret_cast<ImTextureID>(static_cast<intptr_t>(t.texture)), ImVec2(x0, y0),
               ImVec2(x1, y1));
  dl->AddCallback(ImDrawCallback_ResetRenderState, nullptr);
}

}  // namespace app
