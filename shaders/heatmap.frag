#version 330 core
// Colours a value texture through a 256-entry colormap LUT. Mirrors fig::scale_value and
// fig::colormap_color (core/figure/colormap.cpp) so the screen and the exporter agree.
uniform sampler2D Values;  // RG32F: r = value, g = 1 where the cell is masked (NaN in core)
uniform sampler2D Lut;     // 256 x 1 RGBA8, the same table the exporter uses
uniform float VMin;
uniform float VMax;
uniform float Gamma;
uniform int Scale;         // 0 linear, 1 log10, 2 gamma
uniform vec4 Masked;
in vec2 Frag_UV;
in vec4 Frag_Color;
out vec4 Out_Color;

float log10_of(float x) { return log(x) / log(10.0); }

float scaled(float v) {
  float t;
  if (Scale == 1) {
    if (v <= 0.0 || VMax <= 0.0) return 0.0;
    float lo = log10_of(VMin > 0.0 ? VMin : VMax * 1e-6);
    float hi = log10_of(VMax);
    t = hi > lo ? (log10_of(v) - lo) / (hi - lo) : 1.0;
  } else {
    t = VMax > VMin ? (v - VMin) / (VMax - VMin) : 1.0;
  }
  t = clamp(t, 0.0, 1.0);
  if (Scale == 2 && Gamma > 0.0) t = pow(t, Gamma);
  return t;
}

void main() {
  vec2 s = texture(Values, Frag_UV).rg;
  vec4 c;
  if (s.g > 0.5) {
    c = Masked;
  } else {
    int i = int(floor(scaled(s.r) * 255.0 + 0.5));
    c = texelFetch(Lut, ivec2(clamp(i, 0, 255), 0), 0);
  }
  Out_Color = c * Frag_Color;
}
