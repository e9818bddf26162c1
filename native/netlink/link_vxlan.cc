// vxlan: VNI, UDP ports, IPv4/IPv6 endpoints and the flags of the DC/OS-style VTEP. The
// destination port is always sent: the kernel's own default is 8472 (pre-IANA), not 4789.
#include <arpa/inet.h>
#include <linux/if_link.h>

#include "js.h"
#include "netlink/link.h"

namespace mcni {
namespace {

// An address attribute in the v4 or v6 slot, chosen by its length (TypeScript checked families).
void PutAddr(Msg& m, const std::vector<uint8_t>& b, uint16_t v4, uint16_t v6) {
  m.PutBytes(b.size() == 16 ? v6 : v4, b);
}

void PutFlag8(const Napi::Object& spec, const char* key, uint16_t type, Msg& m) {
  if (Has(spec, key)) m.PutU8(type, Bool(spec, key) ? 1 : 0);
}

void Encode(const Napi::Object& spec, Msg& m) {
  m.PutU32(IFLA_VXLAN_ID, U32(spec, "vni"));
  m.PutBe16(IFLA_VXLAN_PORT, static_cast<uint16_t>(U32(spec, "port")));
  // A unicast remote and a multicast group share one attribute; the kernel tells them apart.
  if (Has(spec, "dst")) PutAddr(m, Bytes(spec, "dst"), IFLA_VXLAN_GROUP, IFLA_VXLAN_GROUP6);
  if (Has(spec, "local")) PutAddr(m, Bytes(spec, "local"), IFLA_VXLAN_LOCAL, IFLA_VXLAN_LOCAL6);
  if (Has(spec, "dev")) m.PutU32(IFLA_VXLAN_LINK, U32(spec, "dev"));
  if (Has(spec, "ttl")) m.PutU8(IFLA_VXLAN_TTL, static_cast<uint8_t>(U32(spec, "ttl")));
  if (Has(spec, "tos")) m.PutU8(IFLA_VXLAN_TOS, static_cast<uint8_t>(U32(spec, "tos")));
  if (Has(spec, "portLow")) {
    ifla_vxlan_port_range r{htons(static_cast<uint16_t>(U32(spec, "portLow"))),
                            htons(static_cast<uint16_t>(U32(spec, "portHigh")))};
    m.Put(IFLA_VXLAN_PORT_RANGE, &r, sizeof r);
  }
  PutFlag8(spec, "learning", IFLA_VXLAN_LEARNING, m);
  PutFlag8(spec, "udpCsum", IFLA_VXLAN_UDP_CSUM, m);
  PutFlag8(spec, "proxy", IFLA_VXLAN_PROXY, m);
  PutFlag8(spec, "l2miss", IFLA_VXLAN_L2MISS, m);
  PutFlag8(spec, "l3miss", IFLA_VXLAN_L3MISS, m);
}

std::string AddrText(const Attrs& a, int t) {
  char buf[INET6_ADDRSTRLEN] = "";
  inet_ntop(a.Len(t) == 16 ? AF_INET6 : AF_INET, a.Data(t), buf, sizeof buf);
  return buf;
}

bool IsMulticast(const Attrs& a, int t) {
  const uint8_t* p = a.Data(t);
  return a.Len(t) == 16 ? p[0] == 0xff : (p[0] & 0xf0) == 0xe0;
}

void Decode(Napi::Env env, const rtattr* data, Napi::Object& out) {
  Attrs a = Attrs::Nested(data, IFLA_VXLAN_MAX);
  if (a.Has(IFLA_VXLAN_ID)) out.Set("vni", a.U32(IFLA_VXLAN_ID));
  if (a.Has(IFLA_VXLAN_PORT)) out.Set("port", a.Be16(IFLA_VXLAN_PORT));
  for (int t : {IFLA_VXLAN_GROUP, IFLA_VXLAN_GROUP6}) {
    // "mcastGroup", not "group": a link's `group` is its IFLA_GROUP number.
    if (a.Has(t)) out.Set(IsMulticast(a, t) ? "mcastGroup" : "remote", AddrText(a, t));
  }
  for (int t : {IFLA_VXLAN_LOCAL, IFLA_VXLAN_LOCAL6}) {
    if (a.Has(t)) out.Set("local", AddrText(a, t));
  }
  if (a.Has(IFLA_VXLAN_LINK)) out.Set("dev", a.U32(IFLA_VXLAN_LINK));
  if (a.Has(IFLA_VXLAN_TTL)) out.Set("ttl", a.U8(IFLA_VXLAN_TTL));
  if (a.Has(IFLA_VXLAN_TOS)) out.Set("tos", a.U8(IFLA_VXLAN_TOS));
  if (a.Has(IFLA_VXLAN_PORT_RANGE)) {
    ifla_vxlan_port_range r;
    memcpy(&r, a.Data(IFLA_VXLAN_PORT_RANGE), sizeof r);
    Napi::Array range = Napi::Array::New(env, 2);
    range.Set(0u, ntohs(r.low));
    range.Set(1u, ntohs(r.high));
    out.Set("portRange", range);
  }
  if (a.Has(IFLA_VXLAN_LEARNING)) out.Set("learning", a.U8(IFLA_VXLAN_LEARNING) != 0);
  if (a.Has(IFLA_VXLAN_UDP_CSUM)) out.Set("udpCsum", a.U8(IFLA_VXLAN_UDP_CSUM) != 0);
  if (a.Has(IFLA_VXLAN_PROXY)) out.Set("proxy", a.U8(IFLA_VXLAN_PROXY) != 0);
  if (a.Has(IFLA_VXLAN_L2MISS)) out.Set("l2miss", a.U8(IFLA_VXLAN_L2MISS) != 0);
  if (a.Has(IFLA_VXLAN_L3MISS)) out.Set("l3miss", a.U8(IFLA_VXLAN_L3MISS) != 0);
}

LinkKindRegistrar k("vxlan", {Encode, Decode});

}  // namespace
}  // namespace mcni
