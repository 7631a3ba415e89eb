// The forward pass's pool (core/model/thread_pool.h): every task of every job runs exactly
// once, and run() returns only after all of them have finished, whether the workers are
// spinning, asleep, or wake after the caller has taken every task.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "core/model/thread_pool.h"

namespace {

using core::model::ThreadPool;

// Jobs of 0..69 tasks back to back; some tasks sleep so that the other threads finish first,
// and every few jobs the caller pauses long enough for the workers to fall asleep.
void run_jobs(int threads) {
  ThreadPool pool(threads);
  EXPECT_EQ(pool.size(), threads);
  for (int job = 0; job < 400; ++job) {
    const int n = job % 70;
    std::vector<std::atomic<int>> hits(n);
    std::atomic<int> finished{0};
    pool.run(n, [&](int i) {
      if (i % 17 == 3) std::this_thread::sleep_for(std::chrono::microseconds(50));
      hits[i].fetch_add(1);
      finished.fetch_add(1);
    });
    ASSERT_EQ(finished.load(), n) << "job " << job << ": run() returned before its tasks ended";
    for (int i = 0; i < n; ++i) ASSERT_EQ(hits[i].load(), 1) << "job " << job << " task " << i;
    if (job % 25 == 0) std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
}

TEST(ThreadPool, EveryTaskRunsOnceOneThread) {
  run_jobs(1);
}

TEST(ThreadPool, EveryTaskRunsOnceTwoThreads) {
  run_jobs(2);
}

TEST(ThreadPool, EveryTaskRunsOnceFourThreads) {
  run_jobs(4);
}

}  // namespace
