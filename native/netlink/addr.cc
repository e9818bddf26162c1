// addr.add / addr.replace / addr.del / addr.list and the RTM_NEWADDR decoder (`ip addr`).
#include <linux/if_addr.h>

#include "js.h"
#include "netlink/inet.h"
#include "netlink/ops.h"

namespace mcni {
namespace {

const Name kScopes[] = {{RT_SCOPE_UNIVERSE, "global"}, {RT_SCOPE_SITE, "site"}, {RT_SCOPE_LINK, "link"},
                        {RT_SCOPE_HOST, "host"}, {RT_SCOPE_NOWHERE, "nowhere"}};

// Spec (from lib/netlink/addr.ts): family, index, prefixlen, local (bytes), peer?, broadcast?,
// scope?, label?, flags?, valid?, preferred?
void Encode(const Napi::Object& spec, Msg& m) {
  size_t off = m.Body<ifaddrmsg>();
  auto* ifa = m.At<ifaddrmsg>(off);
  ifa->ifa_family = SpecFamily(spec);
  ifa->ifa_prefixlen = U32(spec, "prefixlen");
  ifa->ifa_scope = U32(spec, "scope");
  ifa->ifa_index = U32(spec, "index");
  uint32_t flags = U32(spec, "flags");
  ifa->ifa_flags = flags & 0xff;  // the legacy byte; IFA_FLAGS carries all 32 bits and wins
  std::vector<uint8_t> local = Bytes(spec, "local");
  m.PutBytes(IFA_LOCAL, local);
  // IFA_ADDRESS is the peer on point-to-point addresses, otherwise the address itself.
  m.PutBytes(IFA_ADDRESS, Has(spec, "peer") ? Bytes(spec, "peer") : local);
  if (Has(spec, "broadcast")) m.PutBytes(IFA_BROADCAST, Bytes(spec, "broadcast"));
  if (Has(spec, "label")) m.PutStr(IFA_LABEL, Str(spec, "label"));
  if (flags) m.PutU32(IFA_FLAGS, flags);
  if (Has(spec, "valid")) {
    ifa_cacheinfo ci{};
    ci.ifa_valid = U32(spec, "valid");
    ci.ifa_prefered = U32(spec, "preferred");
    m.Put(IFA_CACHEINFO, &ci, sizeof ci);
  }
}

// Strict dump requests may only filter by family (header) and ifindex; the rest must be zero.
void EncodeList(const Napi::Object& spec, Msg& m) {
  size_t off = m.Body<ifaddrmsg>();
  m.At<ifaddrmsg>(off)->ifa_family = SpecFamily(spec);
  m.At<ifaddrmsg>(off)->ifa_index = U32(spec, "index");
}

Napi::Value Decode(Napi::Env env, const nlmsghdr* h) {
  auto* ifa = static_cast<const ifaddrmsg*>(NLMSG_DATA(h));
  int af = ifa->ifa_family;
  if (af != AF_INET && af != AF_INET6) return env.Undefined();
  Attrs a(IFA_RTA(ifa), IFA_PAYLOAD(h), IFA_MAX);
  int local_attr = a.Has(IFA_LOCAL) ? IFA_LOCAL : IFA_ADDRESS;
  if (!a.Has(local_attr)) return env.Undefined();
  std::string local = IpText(af, a.Data(local_attr), a.Len(local_attr));
  Napi::Object o = Napi::Object::New(env);
  o.Set("family", FamilyNumber(af));
  o.Set("index", ifa->ifa_index);
  o.Set("address", local + "/" + std::to_string(ifa->ifa_prefixlen));
  o.Set("local", local);
  o.Set("prefixlen", ifa->ifa_prefixlen);
  if (a.Has(IFA_LOCAL) && a.Has(IFA_ADDRESS) &&
      (a.Len(IFA_LOCAL) != a.Len(IFA_ADDRESS) || memcmp(a.Data(IFA_LOCAL), a.Data(IFA_ADDRESS), a.Len(IFA_LOCAL)))) {
    o.Set("peer", IpText(af, a.Data(IFA_ADDRESS), a.Len(IFA_ADDRESS)));
  }
  if (a.Has(IFA_BROADCAST)) o.Set("broadcast", IpText(af, a.Data(IFA_BROADCAST), a.Len(IFA_BROADCAST)));
  o.Set("scope", NameOr(env, kScopes, ifa->ifa_scope));
  if (a.Has(IFA_LABEL)) o.Set("label", a.Str(IFA_LABEL));
  uint32_t flags = a.Has(IFA_FLAGS) ? a.U32(IFA_FLAGS) : ifa->ifa_flags;
  o.Set("flags", flags);
  o.Set("noDad", (flags & IFA_F_NODAD) != 0);
  o.Set("permanent", (flags & IFA_F_PERMANENT) != 0);
  o.Set("tentative", (flags & IFA_F_TENTATIVE) != 0);
  o.Set("dadFailed", (flags & IFA_F_DADFAILED) != 0);
  o.Set("noPrefixRoute", (flags & IFA_F_NOPREFIXROUTE) != 0);
  if (a.Has(IFA_CACHEINFO) && a.Len(IFA_CACHEINFO) >= sizeof(ifa_cacheinfo)) {
    ifa_cacheinfo ci;
    memcpy(&ci, a.Data(IFA_CACHEINFO), sizeof ci);
    o.Set("validLft", ci.ifa_valid);  // 4294967295 = forever, as iproute2 prints it
    o.Set("preferredLft", ci.ifa_prefered);
  }
  return o;
}

OpRegistrar r1("addr.add", {RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, false, Encode});
OpRegistrar r2("addr.replace", {RTM_NEWADDR, NLM_F_CREATE | NLM_F_REPLACE, false, Encode});
OpRegistrar r3("addr.del", {RTM_DELADDR, 0, false, Encode});
OpRegistrar r4("addr.list", {RTM_GETADDR, 0, true, EncodeList});
DecoderRegistrar d1(RTM_NEWADDR, Decode);

}  // namespace
}  // namespace mcni
