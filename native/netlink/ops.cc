// The verb and decoder tables behind ops.h.
#include "netlink/ops.h"

#include <map>

#include "registry.h"

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

namespace {
// opNames(): every verb registered above, sorted; test/unit/native/registry.test.ts holds it
// against the verbs lib/netlink declares with defineOp, so neither side can gain one alone.
Napi::Value OpNames(const Napi::CallbackInfo& info) {
  Napi::Array out = Napi::Array::New(info.Env(), Ops().size());
  uint32_t i = 0;
  for (const auto& [name, def] : Ops()) out.Set(i++, name);
  return out;
}
ExportFn e1("opNames", OpNames);
}  // namespace

}  // namespace mcni
