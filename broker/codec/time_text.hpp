// Times and durations as people type them (broker flags, the CLI, the
// replay tool: one grammar everywhere), and times as people read them. Pure
// functions: the current time is passed in, so every form is testable
// without a clock.
#pragma once

#include <string>
#include <string_view>

#include "result.hpp"

namespace ledgerq::codec {

/// A point in time, as microseconds since the Unix epoch (UTC), from:
///  - an integer: microseconds since the epoch (the log's own keys);
///  - "now";
///  - RFC 3339: 2024-05-01T12:00:00Z, 2024-05-01T12:00:00.25+02:00,
///    2024-05-01 12:00:00Z, or a bare date 2024-05-01 (midnight UTC);
///  - "-" and a duration: that long before `now` (-5m, -90s, -1h30m, -2d).
/// bad_request with a message that shows the accepted forms otherwise.
Result<Micros> parse_time(std::string_view text, Micros now);

/// A duration: a number and a unit (us, ms, s, m, h, d, w), repeated
/// (1h30m); a bare number is seconds. Fractions are allowed (1.5s).
Result<Micros> parse_duration(std::string_view text);

/// RFC 3339 in UTC with microseconds: 2024-05-01T12:00:00.000123Z.
std::string format_time(Micros t);

}  // namespace ledgerq::codec
