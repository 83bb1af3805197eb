#include <catch2/catch.hpp>

#include "admin/metrics.hpp"

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
