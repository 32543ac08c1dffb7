// kernels/thread_pool.hpp: a small fixed pool of worker threads behind gemm's ParallelFor, for
// programs that do not bring their own (inference engines usually do: they pass theirs instead).
//
//   ptq::ThreadPool pool;                        // hardware_concurrency() threads, or ThreadPool(n)
//   gemm::GemmOptions o;
//   o.parallel_for = pool.parallel_for();        // a const gemm::ParallelFor*, valid while pool lives
//   gemm::fully_connected(packed, x, batches, y, o);
//
// Why it is built this way:
//   - Fixed workers, created once by the constructor (thread_count() - 1 of them: the calling
//     thread is the last participant). A call publishes one job (a function pointer and a context
//     pointer, no std::function, no allocation), wakes the workers, takes part itself, and returns
//     when every worker has finished with the job, so the job may live on the caller's stack.
//   - Work is handed out in chunks from one atomic counter (dynamic: a core that is busy with
//     something else does less, which matters on shared machines). Which thread runs which chunk
//     does not change any result: gemm computes each output element inside one task with the same
//     instructions in the same order whatever the split (gemm.hpp, "Threading").
//   - Workers spin briefly (kSpinIterations pause loops, a few microseconds) before sleeping on a
//     condition variable: back-to-back GEMM calls (one layer after another) find them awake, and
//     an idle pool costs no CPU.
//   - One call at a time: concurrent callers are serialized by a mutex. A call made from inside a
//     task of this pool (nested parallelism) runs inline on the calling thread instead of
//     deadlocking.
//   - Tasks must not throw (gemm's never do): an exception escaping a task in a worker ends the
//     program (std::terminate), as for any std::thread. The pool itself throws only from its
//     constructor, where std::thread does when the system cannot create a thread (under
//     -fno-exceptions that aborts instead).
//   - The destructor stops and joins the workers; destroy the pool while no call is in flight.
// Threads: std::thread; on glibc < 2.34 link with -pthread (Threads::Threads).
#pragma once

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

#include "ptq/core/config.hpp"
#include "ptq/kernels/gemm/gemm.hpp"

PTQ_NAMESPACE_BEGIN

class ThreadPool {
 public:
  // threads: how many threads take part in a call, the caller included; 0 means
  // std::thread::hardware_concurrency() (1 if unknown). 1 means no worker: calls run inline.
  explicit ThreadPool(int threads = 0) {
    if (threads <= 0) threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    threads_ = threads;
    parallel_for_ = [this](int64_t count, const gemm::PanelTask& task) { run(count, task); };
    workers_.reserve(static_cast<std::size_t>(threads - 1));
    for (int i = 0; i < threads - 1; ++i) workers_.emplace_back([this] { worker_loop(); });
  }

  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  ~ThreadPool() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stop_.store(true, std::memory_order_relaxed);
      generation_.fetch_add(1, std::memory_order_release);
    }
    wake_.notify_all();
    for (std::thread& t : workers_) t.join();
  }

  int thread_count() const { return threads_; }

  // gemm's splitter for this pool (GemmOptions::parallel_for), valid while the pool lives.
  const gemm::ParallelFor* parallel_for() const { return &parallel_for_; }

  // Runs task(begin, end) on disjoint ranges covering [0, count) and returns when all are done.
  void run(int64_t count, const gemm::PanelTask& task) {
    run(count, [](const void* t, int64_t b, int64_t e) { (*static_cast<const gemm::PanelTask*>(t))(b, e); },
        &task);
  }

  // The same for any callable f(int64_t begin, int64_t end).
  template <class F>
  void parallel_for(int64_t count, const F& f) {
    run(count, [](const void* c, int64_t b, int64_t e) { (*static_cast<const F*>(c))(b, e); }, &f);
  }

 private:
  using Fn = void (*)(const void*, int64_t, int64_t);
  static constexpr int kSpinIterations = 1 << 12;
  // Chunks per participating thread: small enough to even out a busy core, large enough that
  // the counter is not contended.
  static constexpr int64_t kChunksPerThread = 4;

  static const ThreadPool*& current_pool() {
    static thread_local const ThreadPool* pool = nullptr;
    return pool;
  }

  static void pause() {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    asm volatile("yield");
#endif
  }

  void run(int64_t count, Fn fn, const void* ctx) {
    if (count <= 0) return;
    if (workers_.empty() || count == 1 || current_pool() == this) {
      fn(ctx, 0, count);
      return;
    }
    std::lock_guard<std::mutex> call_lock(call_mutex_);
    const int64_t participants = static_cast<int64_t>(workers_.size()) + 1;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      fn_ = fn;
      ctx_ = ctx;
      count_ = count;
      chunk_ = std::max<int64_t>(1, count / (participants * kChunksPerThread));
      next_.store(0, std::memory_order_relaxed);
      pending_.store(static_cast<int>(workers_.size()), std::memory_order_relaxed);
      generation_.fetch_add(1, std::memory_order_release);  // publishes the job to spinning workers
    }
    wake_.notify_all();
    const ThreadPool* outer = current_pool();
    current_pool() = this;
    work();
    current_pool() = outer;
    // Wait until every worker has left the job (it lives on the caller's stack).
    for (int i = 0; i < kSpinIterations && pending_.load(std::memory_order_acquire) != 0; ++i) pause();
    if (pending_.load(std::memory_order_acquire) != 0) {
      std::unique_lock<std::mutex> lock(mutex_);
      done_.wait(lock, [this] { return pending_.load(std::memory_order_acquire) == 0; });
    }
  }

  // Claims chunks of the current job until none is left.
  void work() {
    for (;;) {
      const int64_t begin = next_.fetch_add(chunk_, std::memory_order_relaxed);
      if (begin >= count_) return;
      fn_(ctx_, begin, std::min(count_, begin + chunk_));
    }
  }

  void worker_loop() {
    current_pool() = this;
    uint64_t seen = 0;
    for (;;) {
      // Spin, then sleep, until a new generation (a job, or stop) is published.
      uint64_t g = generation_.load(std::memory_order_acquire);
      for (int i = 0; i < kSpinIterations && g == seen; ++i) {
        pause();
        g = generation_.load(std::memory_order_acquire);
      }
      if (g == seen) {
        std::unique_lock<std::mutex> lock(mutex_);
        wake_.wait(lock, [&] { return generation_.load(std::memory_order_acquire) != seen; });
        g = generation_.load(std::memory_order_acquire);
      }
      seen = g;
      if (stop_.load(std::memory_order_acquire)) return;  // stored before the generation moved
      work();
      if (pending_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
        std::lock_guard<std::mutex> lock(mutex_);  // the caller checks pending_ under this lock
        done_.notify_one();
      }
    }
  }

  int threads_ = 1;
  gemm::ParallelFor parallel_for_;
  std::vector<std::thread> workers_;

  std::mutex call_mutex_;  // one call at a time
  std::mutex mutex_;       // the sleeping side of the condition variables
  std::condition_variable wake_, done_;
  std::atomic<uint64_t> generation_{0};
  std::atomic<int> pending_{0};    // workers that have not finished the current job
  std::atomic<int64_t> next_{0};   // first index not yet claimed
  std::atomic<bool> stop_{false};
  // The current job: written by the caller before generation_ moves (release), read by workers
  // after they see it move (acquire), constant while the job runs.
  Fn fn_ = nullptr;
  const void* ctx_ = nullptr;
  int64_t count_ = 0, chunk_ = 0;
};

// A process-wide pool of hardware_concurrency() threads, created on first use.
inline ThreadPool& default_thread_pool() {
  static ThreadPool pool;
  return pool;
}

PTQ_NAMESPACE_END
