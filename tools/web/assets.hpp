// The dashboard's static files (tools/web/assets), compiled into the binary
// by embed_assets.cmake.
#pragma once

#include <string_view>
#include <vector>

namespace ledgerq::web {

struct Asset {
  std::string_view name;  ///< the file name, e.g. "app.js"
  std::string_view data;  ///< its bytes
};

/// Every asset, in the order CMake listed them.
extern const std::vector<Asset> kAssets;

}  // namespace ledgerq::web
