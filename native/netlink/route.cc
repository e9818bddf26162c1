// route.add / replace / append / del / get / list and the RTM_NEWROUTE decoder (`ip route`).
#include <linux/rtnetlink.h>

#include "js.h"
#include "netlink/inet.h"
#include "netlink/ops.h"

namespace mcni {
namespace {

const Name kScopes[] = {{RT_SCOPE_UNIVERSE, "universe"}, {RT_SCOPE_SITE, "site"}, {RT_SCOPE_LINK, "link"},
                        {RT_SCOPE_HOST, "host"}, {RT_SCOPE_NOWHERE, "nowhere"}};
const Name kTypes[] = {{RTN_UNSPEC, "unspec"},       {RTN_UNICAST, "unicast"},   {RTN_LOCAL, "local"},
                       {RTN_BROADCAST, "broadcast"}, {RTN_ANYCAST, "anycast"},   {RTN_MULTICAST, "multicast"},
                       {RTN_BLACKHOLE, "blackhole"}, {RTN_UNREACHABLE, "unreachable"},
                       {RTN_PROHIBIT, "prohibit"},   {RTN_THROW, "throw"},       {RTN_NAT, "nat"}};

// The header holds tables up to 255; larger ids travel only in RTA_TABLE.
void PutTable(rtmsg* rt, Msg& m, uint32_t table) {
  if (!table) return;
  rt->rtm_table = table < 256 ? table : RT_TABLE_UNSPEC;
  m.PutU32(RTA_TABLE, table);
}

// Spec (from lib/netlink/route.ts): family, dstLen, dst?, gw?, oif?, src?, scope, table, type,
// proto, metric?, mtu?, advmss?, onlink?. Deletes send scope NOWHERE and type/proto 0 as wildcards.
void Encode(const Napi::Object& spec, Msg& m) {
  size_t off = m.Body<rtmsg>();
  auto* rt = m.At<rtmsg>(off);
  rt->rtm_family = SpecFamily(spec);
  rt->rtm_dst_len = U32(spec, "dstLen");
  rt->rtm_scope = U32(spec, "scope");
  rt->rtm_type = U32(spec, "type");
  rt->rtm_protocol = U32(spec, "proto");
  if (Bool(spec, "onlink")) rt->rtm_flags |= RTNH_F_ONLINK;
  PutTable(rt, m, U32(spec, "table"));  // rt is not used after attributes start to grow the buffer
  if (Has(spec, "dst")) m.PutBytes(RTA_DST, Bytes(spec, "dst"));
  if (Has(spec, "gw")) m.PutBytes(RTA_GATEWAY, Bytes(spec, "gw"));
  if (Has(spec, "oif")) m.PutU32(RTA_OIF, U32(spec, "oif"));
  if (Has(spec, "src")) m.PutBytes(RTA_PREFSRC, Bytes(spec, "src"));
  if (Has(spec, "metric")) m.PutU32(RTA_PRIORITY, U32(spec, "metric"));
  if (Has(spec, "mtu") || Has(spec, "advmss")) {
    size_t metrics = m.NestBegin(RTA_METRICS);
    if (Has(spec, "mtu")) m.PutU32(RTAX_MTU, U32(spec, "mtu"));
    if (Has(spec, "advmss")) m.PutU32(RTAX_ADVMSS, U32(spec, "advmss"));
    m.NestEnd(metrics);
  }
}

// `ip route get`: a lookup for one destination (prefix lengths must be full under strict checking).
void EncodeGet(const Napi::Object& spec, Msg& m) {
  size_t off = m.Body<rtmsg>();
  auto* rt = m.At<rtmsg>(off);
  uint8_t af = SpecFamily(spec);
  uint8_t full = af == AF_INET ? 32 : 128;
  rt->rtm_family = af;
  rt->rtm_dst_len = full;
  if (Has(spec, "from")) rt->rtm_src_len = full;
  m.PutBytes(RTA_DST, Bytes(spec, "dst"));
  if (Has(spec, "from")) m.PutBytes(RTA_SRC, Bytes(spec, "from"));
  if (Has(spec, "oif")) m.PutU32(RTA_OIF, U32(spec, "oif"));
  if (Has(spec, "mark")) m.PutU32(RTA_MARK, U32(spec, "mark"));
}

// Kernel-side filters of a strict dump: table, protocol and type in the header, RTA_OIF for dev.
void EncodeList(const Napi::Object& spec, Msg& m) {
  size_t off = m.Body<rtmsg>();
  auto* rt = m.At<rtmsg>(off);
  rt->rtm_family = SpecFamily(spec);
  rt->rtm_protocol = U32(spec, "proto");
  rt->rtm_type = U32(spec, "type");
  PutTable(rt, m, U32(spec, "table"));
  if (Has(spec, "oif")) m.PutU32(RTA_OIF, U32(spec, "oif"));
}

Napi::Value Nexthops(Napi::Env env, int af, const rtattr* mp) {
  Napi::Array out = Napi::Array::New(env);
  auto* nh = static_cast<const rtnexthop*>(RTA_DATA(mp));
  int len = RTA_PAYLOAD(mp);
  uint32_t n = 0;
  while (len >= (int)sizeof(rtnexthop) && nh->rtnh_len >= sizeof(rtnexthop) && nh->rtnh_len <= len) {
    Napi::Object o = Napi::Object::New(env);
    o.Set("dev", nh->rtnh_ifindex);
    o.Set("weight", nh->rtnh_hops + 1);
    Attrs a(RTNH_DATA(nh), nh->rtnh_len - RTNH_LENGTH(0), RTA_MAX);
    if (a.Has(RTA_GATEWAY)) o.Set("gw", IpText(af, a.Data(RTA_GATEWAY), a.Len(RTA_GATEWAY)));
    out.Set(n++, o);
    len -= RTNH_ALIGN(nh->rtnh_len);
    nh = RTNH_NEXT(nh);
  }
  return out;
}

Napi::Value Decode(Napi::Env env, const nlmsghdr* h) {
  auto* rt = static_cast<const rtmsg*>(NLMSG_DATA(h));
  int af = rt->rtm_family;
  // AF_UNSPEC dumps also walk the multicast (ipmr/ip6mr) tables; those are not `ip route`.
  if (af != AF_INET && af != AF_INET6) return env.Undefined();
  Attrs a(RTM_RTA(rt), RTM_PAYLOAD(h), RTA_MAX);
  Napi::Object o = Napi::Object::New(env);
  o.Set("family", FamilyNumber(af));
  if (a.Has(RTA_DST))
    o.Set("dst", IpText(af, a.Data(RTA_DST), a.Len(RTA_DST)) + "/" + std::to_string(rt->rtm_dst_len));
  else
    o.Set("dst", "default");
  if (a.Has(RTA_GATEWAY)) o.Set("gw", IpText(af, a.Data(RTA_GATEWAY), a.Len(RTA_GATEWAY)));
  if (a.Has(RTA_VIA) && a.Len(RTA_VIA) > sizeof(rtvia)) {
    auto* via = reinterpret_cast<const rtvia*>(a.Data(RTA_VIA));
    o.Set("gw", IpText(via->rtvia_family, via->rtvia_addr, a.Len(RTA_VIA) - sizeof(rtvia)));
  }
  if (a.Has(RTA_OIF)) o.Set("dev", a.U32(RTA_OIF));
  if (a.Has(RTA_PREFSRC)) o.Set("src", IpText(af, a.Data(RTA_PREFSRC), a.Len(RTA_PREFSRC)));
  o.Set("table", a.Has(RTA_TABLE) ? a.U32(RTA_TABLE) : rt->rtm_table);
  o.Set("scope", NameOr(env, kScopes, rt->rtm_scope));
  o.Set("type", NameOr(env, kTypes, rt->rtm_type));
  o.Set("proto", NameOr(env, kProtos, rt->rtm_protocol));
  if (a.Has(RTA_PRIORITY)) o.Set("metric", a.U32(RTA_PRIORITY));
  if (a.Has(RTA_METRICS)) {
    Attrs mx = Attrs::Nested(a[RTA_METRICS], RTAX_MAX);
    if (mx.Has(RTAX_MTU)) o.Set("mtu", mx.U32(RTAX_MTU));
    if (mx.Has(RTAX_ADVMSS)) o.Set("advmss", mx.U32(RTAX_ADVMSS));
  }
  o.Set("flags", rt->rtm_flags);
  o.Set("onlink", (rt->rtm_flags & RTNH_F_ONLINK) != 0);
  if (a.Has(RTA_MULTIPATH)) o.Set("nexthops", Nexthops(env, af, a[RTA_MULTIPATH]));
  return o;
}

OpRegistrar r1("route.add", {RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL, false, Encode});
OpRegistrar r2("route.replace", {RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE, false, Encode});
OpRegistrar r3("route.append", {RTM_NEWROUTE, NLM_F_CREATE | NLM_F_APPEND, false, Encode});
OpRegistrar r4("route.del", {RTM_DELROUTE, 0, false, Encode});
OpRegistrar r5("route.get", {RTM_GETROUTE, 0, false, EncodeGet});
OpRegistrar r6("route.list", {RTM_GETROUTE, 0, true, EncodeList});
DecoderRegistrar d1(RTM_NEWROUTE, Decode);

}  // namespace
}  // namespace mcni
