// Reading plain spec objects from JS. TypeScript validated them; here we only read.
#pragma once
#include <napi.h>

#include <cstdint>
#include <string>
#include <vector>

namespace mcni {

// Each reader looks the key up once (a lookup makes a JS string of the name, and Has-then-Get
// made three per present key: a third of the addon's synchronous time for an nf_tables write of
// a dozen rules). An absent key reads as undefined, as do null values.
inline bool Present(const Napi::Value& v) { return !v.IsUndefined() && !v.IsNull(); }
inline bool Has(const Napi::Object& o, const char* k) { return Present(o.Get(k)); }
inline uint32_t U32(const Napi::Object& o, const char* k, uint32_t def = 0) {
  Napi::Value v = o.Get(k);
  return Present(v) ? v.As<Napi::Number>().Uint32Value() : def;
}
inline int32_t I32(const Napi::Object& o, const char* k, int32_t def = 0) {
  Napi::Value v = o.Get(k);
  return Present(v) ? v.As<Napi::Number>().Int32Value() : def;
}
inline bool Bool(const Napi::Object& o, const char* k, bool def = false) {
  Napi::Value v = o.Get(k);
  return Present(v) ? v.As<Napi::Boolean>().Value() : def;
}
inline std::string Str(const Napi::Object& o, const char* k, const std::string& def = "") {
  Napi::Value v = o.Get(k);
  return Present(v) ? v.As<Napi::String>().Utf8Value() : def;
}
// Byte strings (MACs, raw addresses) travel as Uint8Array / Buffer.
inline std::vector<uint8_t> Bytes(const Napi::Object& o, const char* k) {
  Napi::Value v = o.Get(k);
  if (!Present(v)) return {};
  Napi::Uint8Array a = v.As<Napi::Uint8Array>();
  return std::vector<uint8_t>(a.Data(), a.Data() + a.ByteLength());
}
inline Napi::Object Obj(const Napi::Object& o, const char* k) { return o.Get(k).As<Napi::Object>(); }
inline Napi::Buffer<uint8_t> ToBuffer(Napi::Env env, const void* p, size_t n) {
  return Napi::Buffer<uint8_t>::Copy(env, static_cast<const uint8_t*>(p), n);
}

}  // namespace mcni
