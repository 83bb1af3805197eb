#include <catch2/catch.hpp>

#include "admin/metrics.hpp"

#include <cmath>
#include <thread>
#include <vector>

using dsb::metrics::Registry;

TEST_CASE("counters and gauges are keyed by name and labels", "[metrics]") {
  Registry registry;
  registry.counter("frames", {{"type", "EVENT"}}).inc();
  registry.counter("frames", {{"type", "EVENT"}}).inc(2);
  registry.counter("frames", {{"type", "CALLBACK"}}).inc();
  registry.gauge("up").set(3);
  registry.gauge("up").add(-1);

  CHECK(registry.counter("frames", {{"type", "EVENT"}}).value() == 3);
  CHECK(registry.counter("frames", {{"type", "CALLBACK"}}).value() == 1);
  CHECK(registry.gauge("up").value() == 2);

  auto samples = registry.snapshot();
  REQUIRE(samples.size() == 3);
  int counters = 0;
  for (const auto& s : samples) counters += s.is_counter ? 1 : 0;
  CHECK(counters == 2);
}

using dsb::metrics::Histogram;

TEST_CASE("a histogram counts each value in the first bucket whose bound is >= it", "[metrics]") {
  Histogram h({0.5, 0.1, 1, 1, INFINITY, NAN});  // unsorted, duplicate, non-finite: normalised
  REQUIRE(h.bounds() == std::vector<double>{0.1, 0.5, 1});
  for (double v : {-3.0, 0.1, 0.10000001, 0.5, 1.0, 1.5, 1e300}) h.observe(v);
  h.observe(NAN);  // ignored
  auto s = h.snapshot();
  CHECK(s.cumulative == std::vector<uint64_t>{2, 4, 5, 7});
  CHECK(s.count == 7);
  CHECK(s.sum == Approx(-3.0 + 0.1 + 0.10000001 + 0.5 + 1.0 + 1.5 + 1e300));
}

TEST_CASE("histograms are keyed by name and labels, a family keeps its first bounds", "[metrics]") {
  Registry registry;
  Histogram& a = registry.histogram("lat", {{"route", "a"}}, {1, 2});
  CHECK(&registry.histogram("lat", {{"route", "a"}}, {5}) == &a);
  Histogram& b = registry.histogram("lat", {{"route", "b"}}, {5});
  CHECK(&b != &a);
  CHECK(b.bounds() == std::vector<double>{1, 2});
  CHECK(registry.histogram("other", {}).bounds() == dsb::metrics::latency_buckets());
  a.observe(1.5);
  auto hs = registry.histogram_snapshot();
  REQUIRE(hs.size() == 3);
  CHECK(hs[0].name == "lat");
  CHECK(hs[0].data.cumulative == std::vector<uint64_t>{0, 1, 1});
  // Histograms are not part of the counter/gauge snapshot other code relies on.
  CHECK(registry.snapshot().empty());
}

TEST_CASE("observe from many threads loses nothing", "[metrics]") {
  Registry registry;
  Histogram& h = registry.histogram("lat", {}, {0.5});
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&h] {
      for (int i = 0; i < 10000; ++i) h.observe(i % 2 ? 0.25 : 1.0);
    });
  }
  for (auto& t : threads) t.join();
  auto s = h.snapshot();
  CHECK(s.cumulative == std::vector<uint64_t>{20000, 40000});
  CHECK(s.sum == Approx(20000 * 0.25 + 20000 * 1.0));
}

TEST_CASE("families group by name, one type per name, with help texts", "[metrics]") {
  Registry registry;
  registry.counter("b_total", {{"k", "2"}}).inc();
  registry.counter("b_total", {{"k", "1"}}).inc(4);
  registry.gauge("a").set(1);
  registry.histogram("c_seconds", {});
  registry.gauge("b_total").set(9);  // a counter already: kept out of families()
  registry.describe("a", "first");
  registry.describe("a", "second");
  auto families = registry.families();
  REQUIRE(families.size() == 3);
  CHECK(families[0].name == "a");
  CHECK(families[0].help == "second");
  CHECK(families[0].kind == dsb::metrics::Kind::gauge);
  CHECK(families[1].name == "b_total");
  CHECK(families[1].kind == dsb::metrics::Kind::counter);
  REQUIRE(families[1].samples.size() == 2);
  CHECK(families[1].samples[0].labels == dsb::metrics::Labels{{"k", "1"}});
  CHECK(families[1].samples[0].value == 4);
  CHECK(families[2].kind == dsb::metrics::Kind::histogram);
  CHECK(families[2].histograms.size() == 1);
  CHECK(registry.help("dsb_frames_total") == dsb::metrics::default_help("dsb_frames_total"));
  CHECK(registry.help("nobody_described_me") == "(undocumented)");
}
