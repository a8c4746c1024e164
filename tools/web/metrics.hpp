// The broker's figures (`stats`, `ds_list`, PROTOCOL.md §6.13, §6.2) as
// Prometheus metrics, in the text exposition format 0.0.4. Pure: JSON in,
// text out, no I/O.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "json.hpp"  // tools/common

namespace ledgerq::web {

/// The Content-Type of what render_metrics returns.
inline constexpr std::string_view kMetricsContentType = "text/plain; version=0.0.4; charset=utf-8";

/// The exposition of one scrape. `stats` and `ds_list` are the reply fields
/// of those commands; nullopt when the broker did not answer (then only
/// ledgerq_up 0 is written, so a scrape still succeeds and alerts can fire
/// on it). `ds_list` may be nullopt alone (a principal allowed `stats` but
/// not `ds_list`): the paused gauges are then left out.
std::string render_metrics(const std::optional<tools::json>& stats, const std::optional<tools::json>& ds_list);

/// A label value escaped as the format requires: \ " and newline.
std::string escape_label_value(std::string_view v);

}  // namespace ledgerq::web
