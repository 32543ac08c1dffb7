// ptq::ThreadPool (kernels/thread_pool.hpp): every range covered exactly once, GEMM results
// byte-identical to the single-threaded run (and to the reference) for 1..4 threads on random
// shapes and every ISA level, many small calls back to back without a deadlock, concurrent and
// nested callers, and construction/destruction while idle. Also built with -fsanitize=thread
// (bench/README.md, "Threads").
#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "ptq/kernels/gemm/gemm.hpp"
#include "ptq/kernels/reference/fully_connected.hpp"
#include "ptq/kernels/thread_pool.hpp"
#include "support/isa_coverage.hpp"

namespace gemm = ptq::gemm;

namespace {

using ptq_test::kSanitized;

struct Layer {
  ptq::FullyConnectedParams p;
  std::vector<int8_t> x, w;
  std::vector<int32_t> bias;
};

Layer random_layer(std::mt19937& rng, int64_t m, int64_t k, int64_t n) {
  Layer l;
  l.p.batches = m;
  l.p.input_depth = k;
  l.p.output_depth = n;
  l.p.input_zero_point = static_cast<int32_t>(rng() % 256) - 128;
  l.p.output_zero_point = static_cast<int32_t>(rng() % 256) - 128;
  l.x.resize(static_cast<std::size_t>(m * k));
  l.w.resize(static_cast<std::size_t>(n * k));
  l.bias.resize(static_cast<std::size_t>(n));
  for (auto& v : l.x) v = static_cast<int8_t>(static_cast<int>(rng() % 256) - 128);
  for (auto& v : l.w) v = static_cast<int8_t>(static_cast<int>(rng() % 255) - 127);
  for (auto& v : l.bias) v = static_cast<int32_t>(rng() % 200001) - 100000;
  // Scales that put outputs across the int8 range: |acc| is about 127 * 128 * sqrt(K) / 2.
  const double typical = 127.0 * 128.0 * std::sqrt(static_cast<double>(k)) / 2.0 + 1.0;
  for (int64_t c = 0; c < n; ++c)
    l.p.multipliers.push_back(ptq::quantize_multiplier((0.5 + (rng() % 100) / 100.0) * 60.0 / typical));
  return l;
}

}  // namespace

TEST_CASE("thread pool: every index is covered exactly once") {
  for (int threads : {1, 2, 3, 4, 7}) {
    ptq::ThreadPool pool(threads);
    CHECK(pool.thread_count() == threads);
    for (int64_t count : {int64_t{0}, int64_t{1}, int64_t{2}, int64_t{5}, int64_t{64}, int64_t{1000}}) {
      std::vector<std::atomic<int>> hits(static_cast<std::size_t>(count));
      for (auto& h : hits) h.store(0);
      pool.parallel_for(count, [&](int64_t b, int64_t e) {
        CHECK_MESSAGE((b >= 0 && b < e && e <= count), "bad range");
        for (int64_t i = b; i < e; ++i) hits[static_cast<std::size_t>(i)].fetch_add(1);
      });
      for (int64_t i = 0; i < count; ++i) REQUIRE(hits[static_cast<std::size_t>(i)].load() == 1);
    }
  }
}

TEST_CASE("thread pool: GEMM results are byte-identical for 1..4 threads") {
  ptq::ThreadPool pools[] = {ptq::ThreadPool(1), ptq::ThreadPool(2), ptq::ThreadPool(3), ptq::ThreadPool(4)};
  std::mt19937 rng(2024);
  const int rounds = kSanitized ? 6 : 40;
  for (ptq::Isa isa : ptq::kAllIsas) {
    if (!ptq::isa_runnable(isa)) continue;
    CAPTURE(std::string(ptq::isa_name(isa)));
    for (int round = 0; round < rounds; ++round) {
      const int64_t m = 1 + rng() % 80, k = 1 + rng() % 400, n = 1 + rng() % 300;
      const Layer l = random_layer(rng, m, k, n);
      REQUIRE(gemm::validate(l.p, l.w.data()).ok());
      std::vector<int8_t> want(static_cast<std::size_t>(m * n));
      ptq::reference::fully_connected(l.p, l.x.data(), l.w.data(), l.bias.data(), want.data());
      const gemm::PackedWeights packed =
          gemm::pack_weights(l.p, l.w.data(), l.bias.data(), gemm::preferred_layout(isa));
      std::vector<int8_t> single(static_cast<std::size_t>(m * n), 0x11);
      gemm::fully_connected(packed, l.x.data(), m, single.data(), isa);
      REQUIRE(single == want);
      for (ptq::ThreadPool& pool : pools) {
        std::vector<int8_t> got(static_cast<std::size_t>(m * n), 0x22);
        std::vector<int32_t> got_acc(static_cast<std::size_t>(m * n)), one_acc(static_cast<std::size_t>(m * n));
        gemm::GemmOptions o;
        o.isa = isa;
        o.parallel_for = pool.parallel_for();
        gemm::fully_connected(packed, l.x.data(), m, got.data(), o);
        INFO("threads=" << pool.thread_count() << " M=" << m << " K=" << k << " N=" << n);
        REQUIRE(got == single);
        gemm::fully_connected_accumulators(packed, l.x.data(), m, got_acc.data(), o);
        gemm::GemmOptions o1;
        o1.isa = isa;
        gemm::fully_connected_accumulators(packed, l.x.data(), m, one_acc.data(), o1);
        REQUIRE(got_acc == one_acc);
      }
      // Not vacuous: outputs differ from each other.
      if (want.size() >= 16) CHECK(*std::min_element(want.begin(), want.end()) != *std::max_element(want.begin(), want.end()));
    }
  }
}

TEST_CASE("thread pool: many small calls back to back (no deadlock, no lost wake-up)") {
  std::mt19937 rng(5);
  const Layer l = random_layer(rng, 2, 24, 40);  // 3 panels of 16: every call uses the workers
  const gemm::PackedWeights packed = gemm::pack_weights(l.p, l.w.data(), l.bias.data());
  std::vector<int8_t> want(2 * 40), got(2 * 40);
  gemm::fully_connected(packed, l.x.data(), 2, want.data());
  for (int threads : {2, 4}) {
    ptq::ThreadPool pool(threads);
    gemm::GemmOptions o;
    o.parallel_for = pool.parallel_for();
    const int calls = kSanitized ? 2000 : 20000;
    for (int i = 0; i < calls; ++i) {
      gemm::fully_connected(packed, l.x.data(), 2, got.data(), o);
      if (got != want) FAIL("call " << i << " differs");
      if (i % 1000 == 999) std::this_thread::sleep_for(std::chrono::milliseconds(2));  // workers go to sleep
    }
  }
}

TEST_CASE("thread pool: concurrent callers are serialized, nested calls run inline") {
  ptq::ThreadPool pool(3);
  std::atomic<int64_t> total{0};
  auto caller = [&] {
    for (int i = 0; i < (kSanitized ? 200 : 2000); ++i)
      pool.parallel_for(10, [&](int64_t b, int64_t e) { total.fetch_add(e - b); });
  };
  std::thread t1(caller), t2(caller);
  t1.join();
  t2.join();
  CHECK(total.load() == 2 * (kSanitized ? 200 : 2000) * 10);
  std::atomic<int64_t> inner{0};
  pool.parallel_for(8, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) pool.parallel_for(5, [&](int64_t ib, int64_t ie) { inner.fetch_add(ie - ib); });
  });
  CHECK(inner.load() == 40);
}

TEST_CASE("thread pool: created and destroyed while idle, default sizing") {
  for (int i = 0; i < 50; ++i) {
    ptq::ThreadPool pool(1 + i % 4);
    if (i % 2 == 0) pool.parallel_for(4, [](int64_t, int64_t) {});
  }
  ptq::ThreadPool pool;
  CHECK(pool.thread_count() >= 1);
  CHECK(ptq::default_thread_pool().thread_count() >= 1);
  CHECK(pool.parallel_for() != nullptr);
}
