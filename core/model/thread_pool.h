// A small persistent pool for the forward pass: one decode step runs ~120 parallel
// matrix-vector products, and starting threads for each (~20-50 µs) or waking them through a
// condition variable with a mutex costs more than the work. Waiting threads spin briefly (a
// job that follows within a few microseconds starts at once) and then sleep on a futex
// (std::atomic::wait), so on a loaded machine a waiting thread gives its core away instead
// of burning the time slice the thread it waits for needs. The caller's thread takes part;
// tasks are handed out one at a time from an atomic ticket, and run() returns when every
// task has finished: one barrier. It waits for the tasks, not for the workers: a worker that
// wakes after the caller has taken every task costs the caller nothing (waiting for it to
// wake, as this pool once did, cost a decode step ~121 futex wake-ups a token, and made
// decoding at 2 threads slower than at 1 on a VM).
#pragma once

#include <immintrin.h>

#include <atomic>
#include <cstdint>
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
    for (int first = 0; first < n_tasks; first += kMaxTasks) {
      const int n = n_tasks - first < kMaxTasks ? n_tasks - first : kMaxTasks;
      if (first == 0 && n == n_tasks) {
        run_batch(n, fn);
      } else {
        run_batch(n, [&](int i) { fn(first + i); });
      }
    }
  }

 private:
  // The ticket holds a job's task count (bits 32-63) and the next task to hand out (bits
  // 0-31): one fetch_add both claims a task and says whether it belongs to the job, so a
  // worker that comes late claims nothing (index >= count) or a task of the job posted now.
  static constexpr int kMaxTasks = 1 << 30;
  // Pause iterations a thread spins before it sleeps (~20-80 µs, by the CPU's pause latency):
  // long enough to span the serial steps between a decode step's products (a norm, RoPE),
  // so the next job rarely needs a futex wake-up. 1024 against 256: Gemma-3 decode at 2
  // threads 23.9 -> 22.8 ms a token (interleaved runs; 4096 no better).
  static constexpr int kSpin = 1024;

  static int count_of(uint64_t ticket) { return static_cast<int>(ticket >> 32); }
  static int index_of(uint64_t ticket) { return static_cast<int>(ticket & 0xffffffffu); }

  void run_batch(int n_tasks, const std::function<void(int)>& fn) {
    if (workers_.empty() || n_tasks <= 1) {
      for (int i = 0; i < n_tasks; ++i) fn(i);
      return;
    }
    // Every task of the previous job has finished, so no thread reads fn_ or done_ now.
    fn_ = &fn;
    done_.store(0, std::memory_order_relaxed);
    ticket_.store(static_cast<uint64_t>(n_tasks) << 32, std::memory_order_release);
    generation_.fetch_add(1);  // seq_cst: publishes the job before the sleeper check below
    if (sleepers_.load() > 0) generation_.notify_all();
    drain();
    // Wait for the tasks the workers took: spin, then sleep until the last one wakes us.
    for (int s = 0; s < kSpin && done_.load(std::memory_order_acquire) != n_tasks; ++s) _mm_pause();
    for (int d = done_.load(); d != n_tasks; d = done_.load()) {
      caller_sleeps_.store(true);
      if (done_.load() != n_tasks) done_.wait(d);
      caller_sleeps_.store(false);
    }
  }

  // Claims and runs tasks until the job has none left. A claimed task keeps the caller
  // waiting, so fn_ stays the claimed job's until the task has finished.
  void drain() {
    for (;;) {
      const uint64_t t = ticket_.fetch_add(1, std::memory_order_acq_rel);
      const int n = count_of(t), i = index_of(t);
      if (i >= n) return;
      (*fn_)(i);
      if (done_.fetch_add(1) + 1 == n && caller_sleeps_.load()) done_.notify_one();
    }
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
    }
  }

  std::vector<std::thread> workers_;
  const std::function<void(int)>* fn_ = nullptr;
  std::atomic<uint64_t> ticket_{0};  // count << 32 | next index; count 0: no job
  std::atomic<int> done_{0};         // tasks of the current job that have finished
  std::atomic<int> generation_{0};
  std::atomic<bool> caller_sleeps_{false};
  std::atomic<int> sleepers_{0};
  std::atomic<bool> stop_{false};
};

}  // namespace core::model
