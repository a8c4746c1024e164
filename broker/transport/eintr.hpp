// libzmq answers EINTR from any call that reads its command mailbox when a
// signal lands meanwhile (SIGHUP for a reload, SIGTERM to stop): nothing
// was sent or received, and the call is simply made again. Uncaught, it
// ended a busy broker (exit 2 on SIGHUP), or split a multipart message.
#pragma once

#include <cerrno>
#include <zmq.hpp>

namespace ledgerq::transport {

template <class F> decltype(auto) again_on_eintr(F&& f) {
  for (;;) {
    try {
      return f();
    } catch (const zmq::error_t& e) {
      if (e.num() != EINTR) throw;
    }
  }
}

}  // namespace ledgerq::transport
