// IP helpers shared by the addr/route/rule/neigh codecs: TypeScript sends `family` as 4|6 and
// addresses as raw bytes; replies go back as inet_ntop text and small name tables.
#pragma once
#include <napi.h>
#include <arpa/inet.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include <cstdint>
#include <string>

#include "js.h"

namespace mcni {

// 4 → AF_INET, 6 → AF_INET6, anything else (absent) → AF_UNSPEC.
inline uint8_t SpecFamily(const Napi::Object& spec) {
  uint32_t f = U32(spec, "family");
  return f == 4 ? AF_INET : f == 6 ? AF_INET6 : AF_UNSPEC;
}

// Text for an address attribute; "" if the length does not fit the family (never trust replies).
inline std::string IpText(int af, const void* p, size_t len) {
  char buf[INET6_ADDRSTRLEN];
  if ((af == AF_INET && len != 4) || (af == AF_INET6 && len != 16) || (af != AF_INET && af != AF_INET6)) return "";
  return inet_ntop(af, p, buf, sizeof buf) ? buf : "";
}

// The family of a raw address by its length (FDB remotes carry no family of their own).
inline int AfOfLen(size_t len) { return len == 4 ? AF_INET : len == 16 ? AF_INET6 : AF_UNSPEC; }

inline uint32_t FamilyNumber(int af) { return af == AF_INET ? 4 : 6; }

struct Name {
  uint32_t value;
  const char* name;
};

// The name for `v` from a small table, or the number itself when the table has none.
template <size_t N>
Napi::Value NameOr(Napi::Env env, const Name (&table)[N], uint32_t v) {
  for (const Name& n : table)
    if (n.value == v) return Napi::String::New(env, n.name);
  return Napi::Number::New(env, v);
}

// Route/rule origin (rtm_protocol, FRA_PROTOCOL) by name, as iproute2's rt_protos.
inline const Name kProtos[] = {{RTPROT_UNSPEC, "unspec"}, {RTPROT_REDIRECT, "redirect"}, {RTPROT_KERNEL, "kernel"},
                               {RTPROT_BOOT, "boot"},     {RTPROT_STATIC, "static"},     {RTPROT_RA, "ra"},
                               {RTPROT_DHCP, "dhcp"}};

}  // namespace mcni
