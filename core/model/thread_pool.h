// A small persistent pool for the forward pass: one decode step runs ~120 parallel
// matrix-vector products, and starting threads for each (~20-50 µs) or waking them through a
// condition variable with a mutex costs more than the work. Waiting threads spin briefly (a
// job that follows within a few microseconds starts at once) and then sleep on a futex
// (std::atomic::wait), so on a loaded machine a waiting thread gives its core away instead
// of burning the time slice the thread it waits for needs. The caller's thread takes part;
// tasks are handed out one at a time from an atomic counter, and run() returns when every
// task has finished: one barrier.
#pragma once

#include <immintrin.h>

#include <atomic>
#include <functional>
#include <thread>
#include <vector>

namespace core::model {

class ThreadPool {
 public:
  explicit ThreadPool(int n_threads) {
    for (int t = 1; t < n_threads; ++t) workers_.emplace_back([this] { work(); });
  }
  ~ThreadPool() {
    stop_.store(true);
    generation_.fetch_add(1);
    generation_.notify_all();
    for (std::thread& t : workers_) t.join();
  }
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const { return static_cast<int>(workers_.size()) + 1; }

  // Runs fn(i) for every i in [0, n_tasks) and returns when all are done.
  void run(int n_tasks, const std::function<void(int)>& fn) {
    if (workers_.empty() || n_tasks <= 1) {
      for (int i = 0; i < n_tasks; ++i) fn(i);
      return;
    }
    fn_ = &fn;
    n_tasks_ = n_tasks;
    next_.store(0, std::memory_order_relaxed);
    pending_.store(static_cast<int>(workers_.size()), std::memory_order_relaxed);
    generation_.fetch_add(1);  // seq_cst: publishes the job before the sleeper check below
    if (sleepers_.load() > 0) generation_.notify_all();
    drain();
    // Wait for the workers' last tasks: spin, then sleep until the last one wakes us.
    for (int s = 0; s < kSpin && pending_.load(std::memory_order_acquire) != 0; ++s) _mm_pause();
    for (int left = pending_.load(); left != 0; left = pending_.load()) {
      caller_sleeps_.store(true);
      if (pending_.load() != 0) pending_.wait(left);
      caller_sleeps_.store(false);
    }
    fn_ = nullptr;
  }

 private:
  // Pause iterations a thread spins before it sleeps (~5-20 µs, by the CPU's pause latency).
  static constexpr int kSpin = 256;

  void drain() {
    for (int i = next_.fetch_add(1); i < n_tasks_; i = next_.fetch_add(1)) (*fn_)(i);
  }
  void work() {
    int seen = 0;  // not generation_'s value now: a job may have been posted before this started
    for (;;) {
      int g = generation_.load(std::memory_order_acquire);
      for (int s = 0; g == seen && s < kSpin; ++s) {
        _mm_pause();
        g = generation_.load(std::memory_order_acquire);
      }
      if (g == seen) {
        sleepers_.fetch_add(1);
        generation_.wait(seen);
        sleepers_.fetch_sub(1);
        continue;
      }
      seen = g;
      if (stop_.load()) return;
      drain();
      if (pending_.fetch_sub(1) == 1 && caller_sleeps_.load()) pending_.notify_one();
    }
  }

  std::vector<std::thread> workers_;
  const std::function<void(int)>* fn_ = nullptr;
  int n_tasks_ = 0;
  std::atomic<int> next_{0};
  std::atomic<int> pending_{0};
  std::atomic<int> generation_{0};
  std::atomic<bool> caller_sleeps_{false};
  std::atomic<int> sleepers_{0};
  std::atomic<bool> stop_{false};
};

}  // namespace core::model
