// Prometheus text exposition format 0.0.4 for a Registry: per family one "# HELP" and one
// "# TYPE" line, then its samples; families sorted by name, never interleaved.
#pragma once

#include <string>
#include <string_view>

#include "admin/metrics.hpp"

namespace dsb::metrics {

// The Content-Type of what render_prometheus() returns.
inline constexpr const char* kPrometheusContentType = "text/plain; version=0.0.4; charset=utf-8";

// Series whose metric or label names are not valid Prometheus names (or a histogram label
// named "le") are left out rather than make the whole scrape unparsable.
std::string render_prometheus(const Registry& registry);

// Exposed for tests.
std::string escape_label_value(std::string_view value);  // \ " and newline
std::string escape_help(std::string_view text);           // \ and newline
std::string format_value(double value);                   // shortest round-trip, +Inf, -Inf, NaN
bool valid_metric_name(std::string_view name);            // [a-zA-Z_:][a-zA-Z0-9_:]*
bool valid_label_name(std::string_view name);             // [a-zA-Z_][a-zA-Z0-9_]*, not __*

}  // namespace dsb::metrics
