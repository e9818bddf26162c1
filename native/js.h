// Reading plain spec objects from JS. TypeScript validated them; here we only read.
#pragma once
#include <napi.h>

#include <cstdint>
#include <string>
#include <vector>

namespace mcni {

inline bool Has(const Napi::Object& o, const char* k) {
  if (!o.Has(k)) return false;
  Napi::Value v = o.Get(k);
  return !v.IsUndefined() && !v.IsNull();
}
inline uint32_t U32(const Napi::Object& o, const char* k, uint32_t def = 0) {
  return Has(o, k) ? o.Get(k).As<Napi::Number>().Uint32Value() : def;
}
inline int32_t I32(const Napi::Object& o, const char* k, int32_t def = 0) {
  return Has(o, k) ? o.Get(k).As<Napi::Number>().Int32Value() : def;
}
inline bool Bool(const Napi::Object& o, const char* k, bool def = false) {
  return Has(o, k) ? o.Get(k).As<Napi::Boolean>().Value() : def;
}
inline std::string Str(const Napi::Object& o, const char* k, const std::string& def = "") {
  return Has(o, k) ? o.Get(k).As<Napi::String>().Utf8Value() : def;
}
// Byte strings (MACs, raw addresses) travel as Uint8Array / Buffer.
inline std::vector<uint8_t> Bytes(const Napi::Object& o, const char* k) {
  if (!Has(o, k)) return {};
  Napi::Uint8Array a = o.Get(k).As<Napi::Uint8Array>();
  return std::vector<uint8_t>(a.Data(), a.Data() + a.ByteLength());
}
inline Napi::Object Obj(const Napi::Object& o, const char* k) { return o.Get(k).As<Napi::Object>(); }
inline Napi::Buffer<uint8_t> ToBuffer(Napi::Env env, const void* p, size_t n) {
  return Napi::Buffer<uint8_t>::Copy(env, static_cast<const uint8_t*>(p), n);
}

}  // namespace mcni
