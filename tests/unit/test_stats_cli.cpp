// `attnlab stats` end to end: the built binary on a shipped scene, checked against numbers
// worked out by hand, and a bad scene giving exit code 2.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

namespace {

namespace fs = std::filesystem;

struct CliRun {
  int code = -1;
  std::string out;
};

CliRun run_cli(const std::string& args) {
  CliRun r;
  const std::string cmd = std::string(ATTNLAB_BINARY) + " " + args;
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return r;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
  const int status = pclose(p);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

TEST(StatsCli, MistralSwaScene) {
  const std::string scene = std::string(ATTNLAB_ASSET_DIR) + "/scenes/mistral_swa.json";
  const CliRun r = run_cli("stats --scene " + scene);
  ASSERT_EQ(r.code, 0) << r.out;
  const auto j = nlohmann::json::parse(r.out);
  // N=64, W=16 self plus previous: rows see min(q+1, 17) keys.
  EXPECT_EQ(j["mask"]["visible_pairs"], 952);
  EXPECT_EQ(j["mask"]["causal_pairs"], 2080);
  // Query 63: 17, 33, 49, then the whole prefix of 64, for all 32 layers.
  std::vector<int> reach(32, 64);
  reach[0] = 17;
  reach[1] = 33;
  reach[2] = 49;
  EXPECT_EQ(j["receptive_field"]["reach_per_layer"].get<std::vector<int>>(), reach);
  EXPECT_EQ(j["kv_cache"]["bytes_per_token"], 131072);
  EXPECT_EQ(j["kv_cache"]["bytes_full"], 64 * 131072);
  EXPECT_EQ(j["kv_cache"]["bytes_rolling"], 16 * 131072);
  // Step 40, 16 slots: positions 24..39, slot i holds the one congruent to i mod 16.
  std::vector<int> slots = {32, 33, 34, 35, 36, 37, 38, 39, 24, 25, 26, 27, 28, 29, 30, 31};
  EXPECT_EQ(j["ring"]["slots"].get<std::vector<int>>(), slots);
  std::vector<int> kv;
  for (int h = 0; h < 32; ++h) kv.push_back(h / 4);
  EXPECT_EQ(j["groups"]["kv_head_of"].get<std::vector<int>>(), kv);
}

TEST(StatsCli, MistralReachTheory) {
  const std::string scene = std::string(ATTNLAB_ASSET_DIR) + "/scenes/mistral_reach.json";
  const CliRun r = run_cli("stats --scene " + scene);
  ASSERT_EQ(r.code, 0) << r.out;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["receptive_field"]["theoretical_reach_per_layer"].back(), 131073);
  EXPECT_EQ(j["kv_cache"]["bytes_rolling"], 512LL * 1024 * 1024);
}

nlohmann::json stats_of(const std::string& scene_json) {
  const fs::path p =
      fs::temp_directory_path() / ("attnlab_stats_" + std::to_string(getpid()) + ".json");
  std::ofstream(p) << scene_json;
  const CliRun r = run_cli("stats --scene " + p.string());
  fs::remove(p);
  EXPECT_EQ(r.code, 0) << r.out;
  return r.code == 0 ? nlohmann::json::parse(r.out) : nlohmann::json();
}

// "preset" names the architecture the numbers describe: a preset whose architecture keys were
// changed is "custom"; keys set to the preset's own values, or non-architecture keys, are not
// a change.
TEST(StatsCli, PresetBecomesCustomOnceAnArchitectureKeyDiffers) {
  EXPECT_EQ(stats_of(R"({"preset": "Mistral-7B", "seq_len": 64})")["preset"], "Mistral-7B");
  EXPECT_EQ(stats_of(R"({"preset": "Mistral-7B", "n_layers": 32, "window": 4096,
                         "seq_len": 64, "mask": "causal", "dtype": "fp32"})")["preset"],
            "Mistral-7B");
  for (const char* key : {R"("n_layers": 4)", R"("n_heads": 16)", R"("n_kv_heads": 4)",
                          R"("head_dim": 64)", R"("d_model": 1024)", R"("window": 16)",
                          R"("window_convention": "including_self")", R"("global_every": 2)"})
    EXPECT_EQ(
        stats_of(std::string(R"({"preset": "Mistral-7B", "seq_len": 64, )") + key + "}")["preset"],
        "custom")
        << key;
  // No preset key: the defaults are Mistral-7B's, so changed dimensions make it custom too.
  EXPECT_EQ(stats_of(R"({"n_layers": 2, "seq_len": 64})")["preset"], "custom");
  const std::string swa = std::string(ATTNLAB_ASSET_DIR) + "/scenes/mistral_swa.json";
  EXPECT_EQ(nlohmann::json::parse(run_cli("stats --scene " + swa).out)["preset"], "custom");
}

// Unbounded reach (a global layer, or no window at all) is null, never a number.
TEST(StatsCli, UnboundedTheoreticalReachIsNull) {
  const auto g = stats_of(R"({"preset": "Gemma-3-270M", "seq_len": 4096})");
  const auto& t = g["receptive_field"]["theoretical_reach_per_layer"];
  ASSERT_EQ(t.size(), 18u);
  for (int l = 0; l < 5; ++l) EXPECT_EQ(t[l], (l + 1) * 511 + 1) << l;  // W=512 including self
  for (int l = 5; l < 18; ++l) EXPECT_TRUE(t[l].is_null()) << l << ": " << t[l].dump();
  const auto c = stats_of(R"({"preset": "Llama-2-7B", "seq_len": 64})");
  for (const auto& v : c["receptive_field"]["theoretical_reach_per_layer"])
    EXPECT_TRUE(v.is_null()) << v.dump();
}

TEST(StatsCli, BadSceneExitsTwoWithByteOffset) {
  const fs::path p =
      fs::temp_directory_path() / ("attnlab_bad_" + std::to_string(getpid()) + ".json");
  std::ofstream(p) << "{\"seq_len\": 64,\n \"window\": }";
  const CliRun r = run_cli("stats --scene " + p.string() + " 2>&1");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.out.find("byte"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(p.string()), std::string::npos) << r.out;
  std::ofstream(p) << R"({"n_heads": 32, "n_kv_heads": 6})";
  const CliRun r2 = run_cli("stats --scene " + p.string() + " 2>&1");
  EXPECT_EQ(r2.code, 2);
  EXPECT_NE(r2.out.find("n_kv_heads"), std::string::npos) << r2.out;
  fs::remove(p);
  EXPECT_EQ(run_cli("stats --scene /nonexistent/x.json 2>/dev/null").code, 2);
  EXPECT_EQ(run_cli("stats 2>/dev/null").code, 2);
}

}  // namespace
