// The verb and decoder tables behind ops.h.
#include "netlink/ops.h"

#include <map>

namespace mcni {
namespace {
std::map<std::string, OpDef>& Ops() {
  static std::map<std::string, OpDef> m;
  return m;
}
std::map<uint16_t, Decoder>& Decoders() {
  static std::map<uint16_t, Decoder> m;
  return m;
}
}  // namespace

OpRegistrar::OpRegistrar(const char* name, OpDef def) { Ops()[name] = def; }

const OpDef* FindOp(const std::string& name) {
  auto it = Ops().find(name);
  return it == Ops().end() ? nullptr : &it->second;
}

DecoderRegistrar::DecoderRegistrar(uint16_t type, Decoder d) { Decoders()[type] = d; }

Decoder FindDecoder(uint16_t type) {
  auto it = Decoders().find(type);
  return it == Decoders().end() ? nullptr : it->second;
}

}  // namespace mcni
