#version 330 core
// Heatmap quad: the same vertex layout as Dear ImGui (position, uv, colour), so the quad is an
// ordinary ImDrawList image drawn while this program is bound.
uniform mat4 ProjMtx;
in vec2 Position;
in vec2 UV;
in vec4 Color;
out vec2 Frag_UV;
out vec4 Frag_Color;
void main() {
  Frag_UV = UV;
  Frag_Color = Color;
  gl_Position = ProjMtx * vec4(Position.xy, 0.0, 1.0);
}
