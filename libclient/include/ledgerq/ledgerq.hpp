// The whole public API of libledgerq_client: Client, Driver, Worker (link
// ledgerq::client in CMake, or `pkg-config ledgerq-client`). Nothing here exposes ZeroMQ, msgpack or
// JSON library types. Requires C++17.
#pragma once

#include "ledgerq/client.hpp"
#include "ledgerq/credentials.hpp"
#include "ledgerq/driver.hpp"
#include "ledgerq/error.hpp"
#include "ledgerq/payload.hpp"
#include "ledgerq/types.hpp"
#include "ledgerq/version.hpp"
#include "ledgerq/worker.hpp"
