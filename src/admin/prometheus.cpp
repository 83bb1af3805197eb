#include "admin/prometheus.hpp"

#include <charconv>
#include <cmath>
#include <cstdint>

namespace dsb::metrics {

namespace {

bool name_char(char c, bool first, bool colon) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_') return true;
  if (colon && c == ':') return true;
  return !first && c >= '0' && c <= '9';
}

bool valid_labels(const Labels& labels, bool histogram) {
  for (size_t i = 0; i < labels.size(); ++i) {
    if (!valid_label_name(labels[i].first)) return false;
    if (histogram && labels[i].first == "le") return false;
    for (size_t j = 0; j < i; ++j) {
      if (labels[j].first == labels[i].first) return false;
    }
  }
  return true;
}

// `{a="x",b="y"}` plus an optional extra label last; "" when there are no labels at all.
void append_labels(std::string& out, const Labels& labels, const char* extra_name = nullptr,
                   std::string_view extra_value = {}) {
  if (labels.empty() && extra_name == nullptr) return;
  out += '{';
  bool first = true;
  for (const auto& [name, value] : labels) {
    if (!first) out += ',';
    first = false;
    out += name;
    out += "=\"";
    out += escape_label_value(value);
    out += '"';
  }
  if (extra_name != nullptr) {
    if (!first) out += ',';
    out += extra_name;
    out += "=\"";
    out += extra_value;
    out += '"';
  }
  out += '}';
}

}  // namespace

bool valid_metric_name(std::string_view name) {
  if (name.empty()) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    if (!name_char(name[i], i == 0, true)) return false;
  }
  return true;
}

bool valid_label_name(std::string_view name) {
  if (name.empty() || name.substr(0, 2) == "__") return false;
  for (size_t i = 0; i < name.size(); ++i) {
    if (!name_char(name[i], i == 0, false)) return false;
  }
  return true;
}

std::string escape_label_value(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    switch (c) {
      case '\\': out += "\\\\"; break;
      case '"': out += "\\\""; break;
      case '\n': out += "\\n"; break;
      default: out += c;
    }
  }
  return out;
}

std::string escape_help(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      default: out += c;
    }
  }
  return out;
}

std::string format_value(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value);
  if (ec != std::errc()) return "NaN";  // cannot happen with 64 bytes
  return std::string(buf, end);
}

std::string render_prometheus(const Registry& registry) {
  std::string out;
  for (const Registry::Family& family : registry.families()) {
    if (!valid_metric_name(family.name)) continue;
    const bool histogram = family.kind == Kind::histogram;
    std::string body;
    if (histogram) {
      for (const auto& h : family.histograms) {
        if (!valid_labels(h.labels, true)) continue;
        for (size_t i = 0; i < h.data.cumulative.size(); ++i) {
          const bool inf = i == h.bounds.size();
          body += family.name;
          body += "_bucket";
          append_labels(body, h.labels, "le", inf ? "+Inf" : format_value(h.bounds[i]));
          body += ' ';
          body += std::to_string(h.data.cumulative[i]);
          body += '\n';
        }
        body += family.name;
        body += "_sum";
        append_labels(body, h.labels);
        body += ' ';
        body += format_value(h.data.sum);
        body += '\n';
        body += family.name;
        body += "_count";
        append_labels(body, h.labels);
        body += ' ';
        body += std::to_string(h.data.count);
        body += '\n';
      }
    } else {
      for (const auto& s : family.samples) {
        if (!valid_labels(s.labels, false)) continue;
        body += family.name;
        append_labels(body, s.labels);
        body += ' ';
        // Counters are unsigned: the snapshot's int64 round-trips through the same bits.
        body += s.is_counter ? std::to_string(static_cast<uint64_t>(s.value)) : std::to_string(s.value);
        body += '\n';
      }
    }
    if (body.empty()) continue;  // every series was invalid
    out += "# HELP ";
    out += family.name;
    out += ' ';
    out += escape_help(family.help);
    out += "\n# TYPE ";
    out += family.name;
    out += ' ';
    out += kind_name(family.kind);
    out += '\n';
    out += body;
  }
  return out;
}

}  // namespace dsb::metrics
