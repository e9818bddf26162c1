// neigh.add / replace / append / del / get / list and the RTM_NEWNEIGH decoder: `ip neigh` (ARP/NDP,
// family 4|6) and `bridge fdb` (family bridge: MAC → port, or MAC → remote VTEP on a vxlan).
#include <linux/neighbour.h>

#include "js.h"
#include "netlink/inet.h"
#include "netlink/link.h"
#include "netlink/ops.h"

namespace mcni {
namespace {

const Name kStates[] = {{NUD_INCOMPLETE, "incomplete"}, {NUD_REACHABLE, "reachable"}, {NUD_STALE, "stale"},
                        {NUD_DELAY, "delay"},           {NUD_PROBE, "probe"},         {NUD_FAILED, "failed"},
                        {NUD_NOARP, "noarp"},           {NUD_PERMANENT, "permanent"}};
const Name kFlags[] = {{NTF_USE, "use"},          {NTF_SELF, "self"},       {NTF_MASTER, "master"},
                       {NTF_PROXY, "proxy"},      {NTF_EXT_LEARNED, "extern_learn"},
                       {NTF_OFFLOADED, "offload"}, {NTF_STICKY, "sticky"},   {NTF_ROUTER, "router"}};

// family arrives as 4 | 6 | "bridge".
uint8_t NeighFamily(const Napi::Object& spec) {
  return Has(spec, "family") && spec.Get("family").IsString() ? AF_BRIDGE : SpecFamily(spec);
}

// Spec (from lib/netlink/neigh.ts): family, index, state, flags, dst? (the neighbour's IP, or an
// FDB entry's remote VTEP), lladdr?, vni?, port?, vlan?.
void Encode(const Napi::Object& spec, Msg& m) {
  size_t off = m.Body<ndmsg>();
  auto* nd = m.At<ndmsg>(off);
  nd->ndm_family = NeighFamily(spec);
  nd->ndm_ifindex = U32(spec, "index");
  nd->ndm_state = U32(spec, "state");
  nd->ndm_flags = U32(spec, "flags");
  if (Has(spec, "dst")) m.PutBytes(NDA_DST, Bytes(spec, "dst"));
  if (Has(spec, "lladdr")) m.PutBytes(NDA_LLADDR, Bytes(spec, "lladdr"));
  if (Has(spec, "vni")) m.PutU32(NDA_VNI, U32(spec, "vni"));
  if (Has(spec, "port")) m.PutBe16(NDA_PORT, U32(spec, "port"));
  if (Has(spec, "vlan")) m.PutU16(NDA_VLAN, U32(spec, "vlan"));
}

// Strict dumps filter by family (header) and by device / bridge through attributes only.
void EncodeList(const Napi::Object& spec, Msg& m) {
  size_t off = m.Body<ndmsg>();
  m.At<ndmsg>(off)->ndm_family = NeighFamily(spec);
  if (Has(spec, "index")) m.PutU32(NDA_IFINDEX, U32(spec, "index"));
  if (Has(spec, "master")) m.PutU32(NDA_MASTER, U32(spec, "master"));
}

// One entry by device and IP (`ip neigh get`): the kernel's strict get takes the family and device
// in the header and only NDA_DST, and answers ENOENT when there is none.
void EncodeGet(const Napi::Object& spec, Msg& m) {
  size_t off = m.Body<ndmsg>();
  auto* nd = m.At<ndmsg>(off);
  nd->ndm_family = NeighFamily(spec);
  nd->ndm_ifindex = U32(spec, "index");
  m.PutBytes(NDA_DST, Bytes(spec, "dst"));
}

template <size_t N>
Napi::Array Bits(Napi::Env env, const Name (&table)[N], uint32_t v) {
  Napi::Array out = Napi::Array::New(env);
  uint32_t n = 0;
  for (const Name& b : table)
    if (v & b.value) out.Set(n++, b.name);
  return out;
}

Napi::Value Decode(Napi::Env env, const nlmsghdr* h) {
  auto* nd = static_cast<const ndmsg*>(NLMSG_DATA(h));
  int af = nd->ndm_family;
  if (af != AF_INET && af != AF_INET6 && af != AF_BRIDGE) return env.Undefined();
  const auto* attrs = reinterpret_cast<const rtattr*>(reinterpret_cast<const uint8_t*>(nd) + NLMSG_ALIGN(sizeof *nd));
  Attrs a(attrs, h->nlmsg_len - NLMSG_LENGTH(sizeof *nd), NDA_MAX);
  Napi::Object o = Napi::Object::New(env);
  if (af == AF_BRIDGE)
    o.Set("family", "bridge");
  else
    o.Set("family", FamilyNumber(af));
  o.Set("dev", nd->ndm_ifindex);
  if (a.Has(NDA_DST)) {
    // For ARP/NDP it is the neighbour itself; on an FDB entry it is where frames are tunnelled.
    if (af == AF_BRIDGE)
      o.Set("dst", IpText(AfOfLen(a.Len(NDA_DST)), a.Data(NDA_DST), a.Len(NDA_DST)));
    else
      o.Set("address", IpText(af, a.Data(NDA_DST), a.Len(NDA_DST)));
  }
  if (a.Has(NDA_LLADDR)) o.Set("lladdr", MacString(a.Data(NDA_LLADDR), a.Len(NDA_LLADDR)));
  Napi::Array state = Bits(env, kStates, nd->ndm_state);
  if (nd->ndm_state == NUD_NONE) state.Set(0u, "none");
  o.Set("state", state);
  o.Set("flags", Bits(env, kFlags, nd->ndm_flags));
  if (a.Has(NDA_VNI)) o.Set("vni", a.U32(NDA_VNI));
  if (a.Has(NDA_PORT)) o.Set("port", a.Be16(NDA_PORT));
  if (a.Has(NDA_VLAN)) o.Set("vlan", a.U16(NDA_VLAN));
  if (a.Has(NDA_MASTER)) o.Set("master", a.U32(NDA_MASTER));
  return o;
}

OpRegistrar r1("neigh.add", {RTM_NEWNEIGH, NLM_F_CREATE | NLM_F_EXCL, false, Encode});
OpRegistrar r2("neigh.replace", {RTM_NEWNEIGH, NLM_F_CREATE | NLM_F_REPLACE, false, Encode});
// `bridge fdb append`: another remote for the same MAC (e.g. the all-zero flood entry on a vxlan).
OpRegistrar r3("neigh.append", {RTM_NEWNEIGH, NLM_F_CREATE | NLM_F_APPEND, false, Encode});
OpRegistrar r4("neigh.del", {RTM_DELNEIGH, 0, false, Encode});
OpRegistrar r5("neigh.list", {RTM_GETNEIGH, 0, true, EncodeList});
OpRegistrar r6("neigh.get", {RTM_GETNEIGH, 0, false, EncodeGet});
DecoderRegistrar d1(RTM_NEWNEIGH, Decode);

}  // namespace
}  // namespace mcni
