// "Did you mean" hints for misspelt keys and enum values.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dsb::config {

// The candidate closest to `word` by edit distance (case-insensitive, a swap of two
// neighbours counts as one edit), if it is close enough to be a plausible typo: at most
// one edit per three characters (rounded up) of the longer word. Ties go to the
// earlier candidate, so callers list the common keys first.
std::optional<std::string> closest_match(std::string_view word,
                                         const std::vector<std::string_view>& candidates);

// Edit distance as closest_match measures it (optimal string alignment).
std::size_t edit_distance(std::string_view a, std::string_view b);

}  // namespace dsb::config
