// LEDGERQ_CLIENT_API marks the symbols that libledgerq_client exports. The
// library is built with hidden visibility, so everything else in it (the
// codec, ZeroMQ glue) stays private to the shared object.
#pragma once

#if defined(_WIN32)
#  if defined(LEDGERQ_CLIENT_BUILDING)
#    define LEDGERQ_CLIENT_API __declspec(dllexport)
#  else
#    define LEDGERQ_CLIENT_API __declspec(dllimport)
#  endif
#else
#  define LEDGERQ_CLIENT_API __attribute__((visibility("default")))
#endif
