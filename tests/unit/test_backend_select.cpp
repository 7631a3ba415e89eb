// Backend selection: what ATTNLAB_BACKEND asks for, what this machine has, and the sentence
// that says which backend runs and why.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "kernels/backend_select.h"
#if ATTNLAB_HAVE_CUDA
#include "kernels/cuda_backend.h"
#endif

namespace {

bool have_cuda_device() {
#if ATTNLAB_HAVE_CUDA
  return kernels::probe_cuda().device_count > 0;
#else
  return false;
#endif
}

TEST(BackendSelect, CpuOnRequest) {
  std::string msg;
  auto b = kernels::select_backend("cpu", &msg);
  ASSERT_TRUE(b);
  EXPECT_STREQ(b->name(), "cpu");
  EXPECT_EQ(msg.rfind("backend: CPU (", 0), 0u) << msg;
  EXPECT_NE(msg.find("ATTNLAB_BACKEND=cpu"), std::string::npos) << msg;
}

TEST(BackendSelect, EmulatorOnRequest) {
  std::string msg;
  auto b = kernels::select_backend("emulator", &msg);
  EXPECT_STREQ(b->name(), "kernel-emulator");
  EXPECT_NE(msg.find("emulated"), std::string::npos) << msg;
}

TEST(BackendSelect, AutoPicksCudaOnlyWithADevice) {
  std::string msg;
  auto b = kernels::select_backend("", &msg);
  std::printf("%s\n", msg.c_str());
  if (have_cuda_device()) {
    EXPECT_STREQ(b->name(), "cuda");
    EXPECT_EQ(msg.rfind("backend: CUDA (", 0), 0u) << msg;
  } else {
    EXPECT_STREQ(b->name(), "cpu");
    const char* why = kernels::built_with_cuda() ? "no CUDA device found" : "built without CUDA";
    EXPECT_NE(msg.find(why), std::string::npos) << msg;
  }
}

TEST(BackendSelect, ForcedCudaWithoutDeviceFallsBackAndSaysSo) {
  if (have_cuda_device()) GTEST_SKIP() << "this machine has a CUDA device";
  std::string msg;
  auto b = kernels::select_backend("cuda", &msg);
  EXPECT_STREQ(b->name(), "cpu");
  EXPECT_EQ(msg.rfind("backend: CPU (", 0), 0u) << msg;
  EXPECT_NE(msg.find("ATTNLAB_BACKEND=cuda but"), std::string::npos) << msg;
#if ATTNLAB_HAVE_CUDA
  // The runtime's own error name, e.g. cudaErrorNoDevice or cudaErrorInsufficientDriver.
  EXPECT_NE(msg.find("(cudaError"), std::string::npos) << msg;
#endif
}

TEST(BackendSelect, UnknownRequestIsNamed) {
  std::string msg;
  auto b = kernels::select_backend("tpu", &msg);
  ASSERT_TRUE(b);
  EXPECT_NE(msg.find("ATTNLAB_BACKEND=tpu is not"), std::string::npos) << msg;
}

TEST(BackendSelect, ReadsTheEnvironment) {
  ASSERT_EQ(setenv("ATTNLAB_BACKEND", "emulator", 1), 0);
  std::string msg;
  auto b = kernels::select_backend(&msg);
  unsetenv("ATTNLAB_BACKEND");
  EXPECT_STREQ(b->name(), "kernel-emulator");
  auto quiet = kernels::select_backend("cpu", nullptr);  // the message is optional
  EXPECT_TRUE(quiet);
}

#if ATTNLAB_HAVE_CUDA
// Calls the kernel cannot take go to the CPU, are counted, and say why.
TEST(CudaBackend, HeadDimBeyondTheKernelFallsBackToCpu) {
  if (!have_cuda_device()) GTEST_SKIP() << "no CUDA device: " << kernels::probe_cuda().error_name;
  kernels::CudaBackend b(0, 1);
  const int hd = kernels::CudaBackend::capabilities().max_head_dim + 64;
  std::vector<float> q(hd, 0.5f), k(hd, 0.25f), v(hd, 2.0f), out(hd, 0.0f);
  int32_t pos = 0;
  core::AttentionCall c;
  c.n_q = 1;
  c.n_heads = 1;
  c.n_kv_heads = 1;
  c.head_dim = hd;
  c.scale = 1.0f;
  c.q_pos = &pos;
  c.q = q.data();
  c.k_new = k.data();
  c.v_new = v.data();
  c.out = out.data();
  b.attention(c);
  EXPECT_EQ(b.cpu_fallbacks(), 1);
  EXPECT_NE(b.last_fallback_reason().find("head_dim"), std::string::npos);
  EXPECT_FLOAT_EQ(out[0], 2.0f);
}
#endif

}  // namespace
