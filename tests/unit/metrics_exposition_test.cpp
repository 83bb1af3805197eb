// render_prometheus() against a strict parser of the text exposition format 0.0.4 written
// here: every line must match the grammar, every family has exactly one HELP and one TYPE
// before its samples, families are not interleaved and come sorted, series are unique,
// histogram buckets are ordered, cumulative and end with +Inf == _count. The parser is
// tested on broken input first, so a renderer bug cannot slip through a lenient parser.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdlib>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "admin/prometheus.hpp"

#include "support/exposition_parser.hpp"

namespace exposition {
namespace {

bool metric_char(char c, bool first) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' ||
         (!first && c >= '0' && c <= '9');
}
bool label_char(char c, bool first) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
         (!first && c >= '0' && c <= '9');
}

// Reads a name at `pos`; "" when none.
std::string read_name(const std::string& line, size_t& pos, bool metric) {
  size_t start = pos;
  while (pos < line.size() && (metric ? metric_char(line[pos], pos == start)
                                      : label_char(line[pos], pos == start))) {
    ++pos;
  }
  return line.substr(start, pos - start);
}

// Go's strconv.ParseFloat as Prometheus uses it, restricted to what a renderer should emit.
bool parse_value(const std::string& text, double& out) {
  if (text == "+Inf") { out = INFINITY; return true; }
  if (text == "-Inf") { out = -INFINITY; return true; }
  if (text == "NaN") { out = NAN; return true; }
  if (text.empty()) return false;
  for (char c : text) {
    if (!((c >= '0' && c <= '9') || c == '.' || c == 'e' || c == 'E' || c == '-' || c == '+')) return false;
  }
  char* end = nullptr;
  out = std::strtod(text.c_str(), &end);
  return end == text.c_str() + text.size();
}

struct Fail {
  std::string message;
};

class Parser {
 public:
  Parsed run(const std::string& text) {
    try {
      if (!text.empty() && text.back() != '\n') throw Fail{"text does not end with a newline"};
      size_t start = 0;
      while (start < text.size()) {
        size_t nl = text.find('\n', start);
        ++line_no_;
        line(text.substr(start, nl - start));
        start = nl + 1;
      }
      close_family();
    } catch (const Fail& f) {
      out_.error = "line " + std::to_string(line_no_) + ": " + f.message;
    }
    return out_;
  }

 private:
  void line(const std::string& l) {
    if (l.empty()) throw Fail{"empty line"};
    if (l[0] == '#') return comment(l);
    sample(l);
  }

  void comment(const std::string& l) {
    const bool help = l.rfind("# HELP ", 0) == 0;
    const bool type = l.rfind("# TYPE ", 0) == 0;
    if (!help && !type) throw Fail{"comment that is neither HELP nor TYPE: " + l};
    size_t pos = 7;
    std::string name = read_name(l, pos, true);
    if (name.empty()) throw Fail{"missing or invalid metric name"};
    if (pos >= l.size() || l[pos] != ' ') throw Fail{"expected a space after the name"};
    ++pos;
    std::string rest = l.substr(pos);
    if (name != current_) {
      if (!current_.empty()) close_family();
      if (out_.families.count(name)) throw Fail{"family " + name + " appears twice (interleaved)"};
      if (!out_.order.empty() && name <= out_.order.back()) throw Fail{"families not sorted: " + name};
      out_.order.push_back(name);
      out_.families[name];
      current_ = name;
      seen_help_ = seen_type_ = false;
    }
    Family& f = out_.families[name];
    if (!f.series.empty()) throw Fail{"HELP/TYPE after samples of " + name};
    if (help) {
      if (seen_help_) throw Fail{"second HELP for " + name};
      seen_help_ = true;
      f.help = unescape(rest, false);
    } else {
      if (seen_type_) throw Fail{"second TYPE for " + name};
      static const std::set<std::string> kTypes = {"counter", "gauge", "histogram", "summary", "untyped"};
      if (!kTypes.count(rest)) throw Fail{"unknown type '" + rest + "'"};
      seen_type_ = true;
      f.type = rest;
    }
  }

  std::string unescape(const std::string& s, bool quotes) {
    std::string out;
    for (size_t i = 0; i < s.size(); ++i) {
      if (s[i] != '\\') {
        if (s[i] == '\n') throw Fail{"raw newline"};
        out += s[i];
        continue;
      }
      if (++i == s.size()) throw Fail{"dangling backslash"};
      if (s[i] == '\\') out += '\\';
      else if (s[i] == 'n') out += '\n';
      else if (quotes && s[i] == '"') out += '"';
      else throw Fail{std::string("invalid escape \\") + s[i]};
    }
    return out;
  }

  void sample(const std::string& l) {
    size_t pos = 0;
    Series s;
    s.name = read_name(l, pos, true);
    if (s.name.empty()) throw Fail{"sample without a valid metric name: " + l};
    std::vector<std::pair<std::string, std::string>> ordered;
    if (pos < l.size() && l[pos] == '{') {
      ++pos;
      while (true) {
        if (pos < l.size() && l[pos] == '}') {
          if (!ordered.empty()) throw Fail{"trailing comma in labels"};
          ++pos;
          break;
        }
        std::string label = read_name(l, pos, false);
        if (label.empty()) throw Fail{"invalid label name"};
        if (pos >= l.size() || l[pos] != '=') throw Fail{"expected = after label " + label};
        if (++pos >= l.size() || l[pos] != '"') throw Fail{"expected \" after ="};
        ++pos;
        std::string raw;
        while (true) {
          if (pos >= l.size()) throw Fail{"unterminated label value"};
          if (l[pos] == '\\') {
            if (pos + 1 >= l.size()) throw Fail{"dangling backslash"};
            raw += l[pos];
            raw += l[pos + 1];
            pos += 2;
            continue;
          }
          if (l[pos] == '"') break;
          raw += l[pos++];
        }
        ++pos;  // closing quote
        if (s.labels.count(label)) throw Fail{"duplicate label " + label};
        s.labels[label] = unescape(raw, true);
        ordered.emplace_back(label, s.labels[label]);
        if (pos < l.size() && l[pos] == ',') {
          ++pos;
          if (pos < l.size() && l[pos] == '}') throw Fail{"trailing comma in labels"};
          continue;
        }
        if (pos < l.size() && l[pos] == '}') {
          ++pos;
          break;
        }
        throw Fail{"expected , or } in labels"};
      }
    }
    if (pos >= l.size() || l[pos] != ' ') throw Fail{"expected one space before the value"};
    ++pos;
    std::string value = l.substr(pos);
    if (value.find(' ') != std::string::npos) throw Fail{"extra fields (timestamps are not emitted)"};
    if (!parse_value(value, s.value)) throw Fail{"invalid value '" + value + "'"};

    if (current_.empty()) throw Fail{"sample before any TYPE: " + s.name};
    Family& f = out_.families[current_];
    if (!seen_help_ || !seen_type_) throw Fail{"sample before HELP and TYPE of " + current_};
    std::string suffix;
    if (s.name != current_) {
      if (s.name.rfind(current_, 0) != 0) throw Fail{"sample " + s.name + " inside family " + current_};
      suffix = s.name.substr(current_.size());
    }
    if (f.type == "histogram") {
      if (suffix != "_bucket" && suffix != "_sum" && suffix != "_count")
        throw Fail{"histogram sample " + s.name + " is not _bucket/_sum/_count"};
      histogram_sample(s, suffix);
    } else {
      if (!suffix.empty()) throw Fail{"sample " + s.name + " inside family " + current_};
      if (f.type == "counter" && !(s.value >= 0)) throw Fail{"counter below zero or NaN"};
    }
    std::string key = s.name;
    for (const auto& [k, v] : s.labels) key += "\x1f" + k + "=" + v;
    if (!series_keys_.insert(key).second) throw Fail{"duplicate series " + l};
    f.series.push_back(std::move(s));
  }

  // Buckets of one series (labels without le) come first, in increasing le, counts never
  // falling, ending at +Inf; then _sum, then _count equal to the +Inf bucket.
  void histogram_sample(const Series& s, const std::string& suffix) {
    std::map<std::string, std::string> base = s.labels;
    if (suffix == "_bucket") {
      auto le = base.find("le");
      if (le == base.end()) throw Fail{"bucket without le"};
      double bound = 0;
      if (!parse_value(le->second, bound) || std::isnan(bound)) throw Fail{"bad le " + le->second};
      base.erase(le);
      if (!hist_open_ || base != hist_labels_) {
        if (hist_open_) throw Fail{"new histogram series before _sum/_count of the previous"};
        if (done_hist_.count(base)) throw Fail{"histogram series repeated"};
        hist_open_ = true;
        hist_labels_ = base;
        last_le_ = -INFINITY;
        last_count_ = 0;
        saw_inf_ = saw_sum_ = false;
        first_bucket_ = true;
      }
      if (saw_inf_) throw Fail{"bucket after +Inf"};
      if (!first_bucket_ && !(bound > last_le_)) throw Fail{"le not increasing"};
      if (s.value < last_count_) throw Fail{"buckets not cumulative"};
      if (s.value != std::floor(s.value) || s.value < 0) throw Fail{"bucket count not a whole number"};
      first_bucket_ = false;
      last_le_ = bound;
      last_count_ = s.value;
      if (std::isinf(bound) && bound > 0) saw_inf_ = true;
      return;
    }
    if (base.count("le")) throw Fail{"le on " + suffix};
    if (!hist_open_ || base != hist_labels_) throw Fail{suffix + " without buckets before it"};
    if (!saw_inf_) throw Fail{"no +Inf bucket before " + suffix};
    if (suffix == "_sum") {
      if (saw_sum_) throw Fail{"second _sum"};
      saw_sum_ = true;
      return;
    }
    if (!saw_sum_) throw Fail{"_count before _sum"};
    if (s.value != last_count_) throw Fail{"_count differs from the +Inf bucket"};
    hist_open_ = false;
    done_hist_.insert(base);
  }

  void close_family() {
    if (current_.empty()) return;
    if (!seen_help_ || !seen_type_) throw Fail{"family " + current_ + " lacks HELP or TYPE"};
    if (out_.families[current_].series.empty()) throw Fail{"family " + current_ + " has no samples"};
    if (hist_open_) throw Fail{"histogram series of " + current_ + " not finished with _count"};
    done_hist_.clear();
    current_.clear();
  }

  Parsed out_;
  int line_no_ = 0;
  std::string current_;
  bool seen_help_ = false, seen_type_ = false;
  std::set<std::string> series_keys_;
  bool hist_open_ = false, saw_inf_ = false, saw_sum_ = false, first_bucket_ = false;
  std::map<std::string, std::string> hist_labels_;
  std::set<std::map<std::string, std::string>> done_hist_;
  double last_le_ = 0, last_count_ = 0;
};

}  // namespace

Parsed parse(const std::string& text) { return Parser().run(text); }

double Parsed::value(const std::string& name, const std::map<std::string, std::string>& labels) const {
  for (const auto& [family_name, family] : families) {
    for (const auto& s : family.series) {
      if (s.name == name && s.labels == labels) return s.value;
    }
  }
  return NAN;
}

}  // namespace exposition

using dsb::metrics::Registry;
using dsb::metrics::render_prometheus;

namespace {

std::string valid_text() {
  return "# HELP a_total A.\n"
         "# TYPE a_total counter\n"
         "a_total{x=\"1\"} 3\n"
         "# HELP h Hist.\n"
         "# TYPE h histogram\n"
         "h_bucket{le=\"0.1\"} 1\n"
         "h_bucket{le=\"1\"} 2\n"
         "h_bucket{le=\"+Inf\"} 3\n"
         "h_sum 4.5\n"
         "h_count 3\n";
}

// `valid_text()` with the first occurrence of `from` replaced by `to`.
std::string broken(const std::string& from, const std::string& to) {
  std::string t = valid_text();
  auto at = t.find(from);
  REQUIRE(at != std::string::npos);
  return t.replace(at, from.size(), to);
}

}  // namespace

TEST_CASE("the strict exposition parser accepts valid text and rejects each violation", "[metrics]") {
  auto ok = exposition::parse(valid_text());
  INFO(ok.error);
  REQUIRE(ok.error.empty());
  CHECK(ok.value("a_total", {{"x", "1"}}) == 3);
  CHECK(ok.value("h_count") == 3);
  CHECK(exposition::parse("").error.empty());

  struct Violation {
    std::string from, to, error;
  };
  const std::vector<Violation> violations = {
      {"a_total{x=\"1\"} 3\n", "a_total{x=\"1\"} 3\na_total{x=\"1\"} 4\n", "duplicate series"},
      {"# TYPE a_total counter\n", "", "sample before HELP and TYPE"},
      {"# HELP a_total A.\n", "", "sample before HELP and TYPE"},
      {"# TYPE a_total counter\n", "# TYPE a_total counter\n# TYPE a_total counter\n", "second TYPE"},
      {"# TYPE a_total counter\n", "# TYPE a_total countr\n", "unknown type"},
      {"{x=\"1\"}", "{x=\"1\",}", "trailing comma"},
      {"{x=\"1\"}", "{x=\"a\\q\"}", "invalid escape"},
      {"{x=\"1\"}", "{x=1}", "expected \""},
      {"{x=\"1\"}", "{1x=\"1\"}", "invalid label name"},
      {"{x=\"1\"}", "{x=\"1\",x=\"2\"}", "duplicate label"},
      {"a_total{x=\"1\"} 3", "a_total{x=\"1\"}  3", "extra fields"},
      {"a_total{x=\"1\"} 3", "a_total{x=\"1\"} 3 1000", "extra fields"},
      {"a_total{x=\"1\"} 3", "a_total{x=\"1\"} three", "invalid value"},
      {"a_total{x=\"1\"} 3", "a_total{x=\"1\"} -3", "counter below zero"},
      {"h_bucket{le=\"1\"} 2", "h_bucket{le=\"1\"} 0", "not cumulative"},
      {"h_bucket{le=\"1\"} 2", "h_bucket{le=\"0.05\"} 2", "le not increasing"},
      {"h_bucket{le=\"+Inf\"} 3\n", "", "no +Inf bucket"},
      {"h_count 3", "h_count 4", "_count differs"},
      {"h_sum 4.5\n", "", "_count before _sum"},
      {"h_count 3\n", "", "not finished with _count"},
      {"h_bucket{le=\"0.1\"} 1", "h_bucket{le=\"0.1\",le=\"0.2\"} 1", "duplicate label"},
      {"h_sum 4.5", "h_total 4.5", "not _bucket/_sum/_count"},
      {"h_count 3\n", "h_count 3\na_total{x=\"2\"} 1\n", "inside family h"},
      {"h_count 3\n", "h_count 3\n# HELP a_total again\n", "appears twice"},
      {"# HELP h Hist.\n", "# HELP 9h Hist.\n", "invalid metric name"},
      {"# HELP h Hist.\n", "# just a comment\n# HELP h Hist.\n", "neither HELP nor TYPE"},
      {"# HELP h Hist.\n", "# HELP b B.\n# TYPE b gauge\n# HELP h Hist.\n", "has no samples"},
      {"# HELP a_total A.\n", "x 1\n# HELP a_total A.\n", "sample before any TYPE"},
      {"h_count 3\n", "h_count 3\n\n", "empty line"},
      {"h_count 3\n", "h_count 3", "does not end with a newline"},
      {"# HELP h Hist.\n", "# HELP a_total A.\n", "HELP/TYPE after samples"},
  };
  for (const auto& v : violations) {
    const std::string text = broken(v.from, v.to);
    const std::string error = exposition::parse(text).error;
    INFO(text << "-> " << error);
    CHECK(error.find(v.error) != std::string::npos);
  }
  // Families out of order.
  const std::string unsorted = "# HELP b B.\n# TYPE b gauge\nb 1\n# HELP a A.\n# TYPE a gauge\na 1\n";
  CHECK(exposition::parse(unsorted).error.find("not sorted") != std::string::npos);
}

TEST_CASE("render_prometheus writes counters, gauges and histograms in the 0.0.4 format", "[metrics]") {
  Registry r;
  r.counter("dsb_frames_total", {{"type", "EVENT"}, {"topic", "chat"}}).inc(2);
  r.counter("dsb_frames_total", {{"type", "CALLBACK"}, {"topic", "/v1.0/im/bot/messages/get"}}).inc();
  r.gauge("dsb_connections_up").set(2);
  r.gauge("aaa_negative").set(-5);
  // Binary fractions, so the sum prints exactly.
  auto& h = r.histogram("dsb_delivery_duration_seconds", {{"route", "r1"}}, {1, 0.25, 0.5, 0.5});
  h.observe(0.125);
  h.observe(0.25);  // on a bound: counted in le="0.25"
  h.observe(0.75);
  h.observe(32);
  r.describe("aaa_negative", "A gauge.");

  const std::string want =
      "# HELP aaa_negative A gauge.\n"
      "# TYPE aaa_negative gauge\n"
      "aaa_negative -5\n"
      "# HELP dsb_connections_up Stream connections currently registered.\n"
      "# TYPE dsb_connections_up gauge\n"
      "dsb_connections_up 2\n"
      "# HELP dsb_delivery_duration_seconds Time from frame receipt to the webhook's answer, by route.\n"
      "# TYPE dsb_delivery_duration_seconds histogram\n"
      "dsb_delivery_duration_seconds_bucket{route=\"r1\",le=\"0.25\"} 2\n"
      "dsb_delivery_duration_seconds_bucket{route=\"r1\",le=\"0.5\"} 2\n"
      "dsb_delivery_duration_seconds_bucket{route=\"r1\",le=\"1\"} 3\n"
      "dsb_delivery_duration_seconds_bucket{route=\"r1\",le=\"+Inf\"} 4\n"
      "dsb_delivery_duration_seconds_sum{route=\"r1\"} 33.125\n"
      "dsb_delivery_duration_seconds_count{route=\"r1\"} 4\n"
      "# HELP dsb_frames_total Stream frames received, by frame type and topic.\n"
      "# TYPE dsb_frames_total counter\n"
      "dsb_frames_total{type=\"CALLBACK\",topic=\"/v1.0/im/bot/messages/get\"} 1\n"
      "dsb_frames_total{type=\"EVENT\",topic=\"chat\"} 2\n";
  const std::string text = render_prometheus(r);
  CHECK(text == want);
  auto parsed = exposition::parse(text);
  INFO(parsed.error);
  CHECK(parsed.error.empty());
}

TEST_CASE("render_prometheus escapes label values and help text", "[metrics]") {
  Registry r;
  const std::string nasty = "a\\b\"c\nd";
  r.counter("x_total", {{"topic", nasty}}).inc(7);
  r.describe("x_total", "line one\nback\\slash");
  const std::string text = render_prometheus(r);
  CHECK(text.find("x_total{topic=\"a\\\\b\\\"c\\nd\"} 7\n") != std::string::npos);
  CHECK(text.find("# HELP x_total line one\\nback\\\\slash\n") != std::string::npos);
  auto parsed = exposition::parse(text);
  INFO(parsed.error);
  REQUIRE(parsed.error.empty());
  CHECK(parsed.value("x_total", {{"topic", nasty}}) == 7);
  CHECK(parsed.families.at("x_total").help == "line one\nback\\slash");
}

TEST_CASE("render_prometheus leaves out what would make the scrape invalid", "[metrics]") {
  Registry r;
  r.counter("bad-name_total").inc();
  r.counter("ok_total", {{"bad label", "x"}}).inc();
  r.counter("ok_total", {{"good", "x"}}).inc();
  r.counter("dup_total", {{"a", "1"}, {"a", "2"}}).inc();
  r.histogram("h_seconds", {{"le", "x"}}).observe(1);
  r.counter("both").inc();
  r.gauge("both").set(3);  // another type under the same name: not exported
  const std::string text = render_prometheus(r);
  auto parsed = exposition::parse(text);
  INFO(text << parsed.error);
  REQUIRE(parsed.error.empty());
  CHECK(parsed.order == std::vector<std::string>{"both", "ok_total"});
  CHECK(parsed.families.at("both").type == "counter");
  CHECK(parsed.value("ok_total", {{"good", "x"}}) == 1);
}

TEST_CASE("the standard metrics are described and declared at zero", "[metrics]") {
  Registry r;
  dsb::metrics::declare_standard(r);
  dsb::metrics::declare_standard(r);
  r.histogram("dsb_delivery_duration_seconds", {{"route", "a"}});
  auto parsed = exposition::parse(render_prometheus(r));
  INFO(parsed.error);
  REQUIRE(parsed.error.empty());
  for (const char* name : {"dsb_reconnects_total", "dsb_acks_dropped_total", "dsb_connections_up",
                           "dsb_spool_depth", "dsb_dead_letters", "dsb_last_frame_age_seconds"}) {
    INFO(name);
    CHECK(parsed.value(name) == 0);
    CHECK(parsed.families.at(name).help != "(undocumented)");
  }
  CHECK(parsed.families.at("dsb_reconnects_total").type == "counter");
  CHECK(parsed.families.at("dsb_spool_depth").type == "gauge");
  // The default latency buckets: 1 ms .. 10 s, plus +Inf.
  CHECK(parsed.families.at("dsb_delivery_duration_seconds").series.size() == 13 + 1 + 2);
  CHECK(parsed.value("dsb_delivery_duration_seconds_bucket", {{"route", "a"}, {"le", "0.001"}}) == 0);
  CHECK(parsed.value("dsb_delivery_duration_seconds_bucket", {{"route", "a"}, {"le", "10"}}) == 0);
  for (const char* name : {"dsb_frames_total", "dsb_frames_malformed_total", "dsb_acks_total",
                           "dsb_deliveries_total", "dsb_deliveries_abandoned_total",
                           "dsb_duplicates_total", "dsb_dedup_waits_total", "dsb_unrouted_total",
                           "dsb_robot_replies_total", "dsb_delivery_duration_seconds",
                           "dsb_ack_latency_seconds"}) {
    INFO(name);
    CHECK_FALSE(dsb::metrics::default_help(name).empty());
  }
}

TEST_CASE("scrapes stay valid while other threads observe and count", "[metrics]") {
  Registry r;
  std::atomic<bool> stop{false};
  std::vector<std::thread> writers;
  for (int t = 0; t < 3; ++t) {
    writers.emplace_back([&r, &stop, t] {
      auto& h = r.histogram("lat_seconds", {{"route", "r" + std::to_string(t % 2)}});
      auto& c = r.counter("n_total", {{"t", std::to_string(t)}});
      for (int i = 0; !stop.load(); ++i) {
        h.observe((i % 200) * 0.0001 * (t + 1));
        c.inc();
      }
    });
  }
  for (int i = 0; i < 200; ++i) {
    auto parsed = exposition::parse(render_prometheus(r));
    if (!parsed.error.empty()) {
      stop = true;
      for (auto& w : writers) w.join();
      FAIL(parsed.error);
    }
  }
  stop = true;
  for (auto& w : writers) w.join();
}
