// Splits [0, n) over up to n_threads std::threads (the caller is one of them). Work below a
// threshold runs inline: spawning costs ~20 µs, more than a decode step's attention.
#pragma once

#include <algorithm>
#include <atomic>
#include <thread>
#include <vector>

namespace core {

inline int default_threads() {
  return std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
}

template <typename Fn>
void parallel_for(int n, int n_threads, Fn&& fn) {
  const int nt = std::min(n, n_threads > 0 ? n_threads : default_threads());
  if (nt <= 1) {
    for (int i = 0; i < n; ++i) fn(i);
    return;
  }
  std::vector<std::thread> pool;
  pool.reserve(nt - 1);
  auto worker = [&](int t) {
    for (int i = t; i < n; i += nt) fn(i);
  };
  for (int t = 1; t < nt; ++t) pool.emplace_back(worker, t);
  worker(0);
  for (auto& th : pool) th.join();
}

// The same, but each thread takes the next index when it has finished one, for items of
// uneven cost.
template <typename Fn>
void parallel_for_dynamic(int n, int n_threads, Fn&& fn) {
  const int nt = std::min(n, n_threads > 0 ? n_threads : default_threads());
  if (nt <= 1) {
    for (int i = 0; i < n; ++i) fn(i);
    return;
  }
  std::atomic<int> next{0};
  auto worker = [&] {
    for (int i = next.fetch_add(1); i < n; i = next.fetch_add(1)) fn(i);
  };
  std::vector<std::thread> pool;
  pool.reserve(nt - 1);
  for (int t = 1; t < nt; ++t) pool.emplace_back(worker);
  worker();
  for (auto& th : pool) th.join();
}

}  // namespace core
