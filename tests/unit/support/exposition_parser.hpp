// A strict parser of the Prometheus text exposition format (0.0.4), for tests: it checks
// every line's grammar, that TYPE precedes a family's samples, that families are not
// interleaved, and that histogram buckets are cumulative and end in +Inf == _count.
// Defined in metrics_exposition_test.cpp, which also tests the parser itself.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace exposition {

struct Series {
  std::string name;  // the sample's name: family, or family_bucket/_sum/_count
  std::map<std::string, std::string> labels;
  double value = 0;
};

struct Family {
  std::string type;
  std::string help;
  std::vector<Series> series;
};

struct Parsed {
  std::string error;  // "" when the text is valid; else "line N: what"
  std::vector<std::string> order;  // family names as they appeared
  std::map<std::string, Family> families;

  // The value of `name` with exactly `labels`, or NaN when absent.
  double value(const std::string& name, const std::map<std::string, std::string>& labels = {}) const;
};

Parsed parse(const std::string& text);

}  // namespace exposition
