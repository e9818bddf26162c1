// Netlink verbs by name ("link.add", "route.replace", ...) and reply decoders by message type.
#pragma once
#include <napi.h>

#include <cstdint>
#include <string>

#include "netlink/message.h"

namespace mcni {

struct OpDef {
  uint16_t type;   // RTM_*
  uint16_t flags;  // NLM_F_CREATE/EXCL/REPLACE/APPEND beyond REQUEST|ACK
  bool dump;       // a dump (NLM_F_DUMP) instead of an acknowledged request
  // Fill the body and attributes from a spec that TypeScript validated.
  void (*encode)(const Napi::Object& spec, Msg& m);
};

struct OpRegistrar {
  OpRegistrar(const char* name, OpDef def);
};
const OpDef* FindOp(const std::string& name);

// Turns one reply message (RTM_NEWLINK, RTM_NEWADDR, ...) into a plain JS object.
using Decoder = Napi::Value (*)(Napi::Env env, const nlmsghdr* h);
struct DecoderRegistrar {
  DecoderRegistrar(uint16_t type, Decoder d);
};
Decoder FindDecoder(uint16_t type);

}  // namespace mcni
