// How `spool list|show|replay|purge` print (product.md section 11): a table an operator
// can grep for an event's id, one delivery in full, and with --json one JSON document per
// command for scripts. Pure: rows and the wall time in, text out. URLs are shown only
// through config::redact_url (no userinfo, no query values).
#pragma once

#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

#include "store/spool_queries.hpp"

namespace dsb::store {

// "45s", "2m5s", "3h0m", "2d1h" (never negative).
std::string human_duration(int64_t ms);

// An aligned table, one line per delivery (ID, ROUTE, STATE, ATTEMPTS, AGE, NEXT,
// DINGTALK ID, EVENT/TOPIC, URL, LAST ERROR), then "N pending, M dead-lettered".
void print_list_table(const std::vector<DeliveryRow>& rows, int64_t now_ms, std::ostream& out);
// A JSON array with one object per delivery.
void print_list_json(const std::vector<DeliveryRow>& rows, int64_t now_ms, std::ostream& out);

// The delivery, the frame's headers and body, and its attempt history.
void print_show_text(const DeliveryDetail& detail, int64_t now_ms, std::ostream& out);
void print_show_json(const DeliveryDetail& detail, int64_t now_ms, std::ostream& out);

// {"action": "replay"|"purge", "count": N, "ids": [...]}
void print_change_json(const std::string& action, const std::vector<int64_t>& ids,
                       std::ostream& out);

}  // namespace dsb::store
