// rule.add / rule.del / rule.list and the RTM_NEWRULE decoder (`ip rule`, policy routing).
#include <linux/fib_rules.h>

#include "js.h"
#include "netlink/inet.h"
#include "netlink/ops.h"

namespace mcni {
namespace {

const Name kActions[] = {{FR_ACT_TO_TBL, "table"},         {FR_ACT_GOTO, "goto"},
                         {FR_ACT_NOP, "nop"},              {FR_ACT_BLACKHOLE, "blackhole"},
                         {FR_ACT_UNREACHABLE, "unreachable"}, {FR_ACT_PROHIBIT, "prohibit"}};

// Spec (from lib/netlink/rule.ts): family, srcLen, src?, dstLen, dst?, table?, priority?, iif?,
// oif?, fwmark?, fwmask?, action?. On delete every present field narrows the match.
void Encode(const Napi::Object& spec, Msg& m) {
  size_t off = m.Body<fib_rule_hdr>();
  auto* frh = m.At<fib_rule_hdr>(off);
  frh->family = SpecFamily(spec);
  frh->src_len = U32(spec, "srcLen");
  frh->dst_len = U32(spec, "dstLen");
  frh->action = U32(spec, "action");
  uint32_t table = U32(spec, "table");
  frh->table = table < 256 ? table : RT_TABLE_UNSPEC;  // larger ids only fit FRA_TABLE
  if (table) m.PutU32(FRA_TABLE, table);
  if (Has(spec, "src")) m.PutBytes(FRA_SRC, Bytes(spec, "src"));
  if (Has(spec, "dst")) m.PutBytes(FRA_DST, Bytes(spec, "dst"));
  if (Has(spec, "priority")) m.PutU32(FRA_PRIORITY, U32(spec, "priority"));
  if (Has(spec, "iif")) m.PutStr(FRA_IIFNAME, Str(spec, "iif"));
  if (Has(spec, "oif")) m.PutStr(FRA_OIFNAME, Str(spec, "oif"));
  if (Has(spec, "fwmark")) m.PutU32(FRA_FWMARK, U32(spec, "fwmark"));
  if (Has(spec, "fwmask")) m.PutU32(FRA_FWMASK, U32(spec, "fwmask"));
}

// A strict rule dump accepts no filters but the family.
void EncodeList(const Napi::Object& spec, Msg& m) {
  size_t off = m.Body<fib_rule_hdr>();
  m.At<fib_rule_hdr>(off)->family = SpecFamily(spec);
}

Napi::Value Decode(Napi::Env env, const nlmsghdr* h) {
  auto* frh = static_cast<const fib_rule_hdr*>(NLMSG_DATA(h));
  int af = frh->family;
  if (af != AF_INET && af != AF_INET6) return env.Undefined();  // ipmr rules in AF_UNSPEC dumps
  const auto* attrs = reinterpret_cast<const rtattr*>(reinterpret_cast<const uint8_t*>(frh) + NLMSG_ALIGN(sizeof *frh));
  Attrs a(attrs, h->nlmsg_len - NLMSG_LENGTH(sizeof *frh), FRA_MAX);
  Napi::Object o = Napi::Object::New(env);
  o.Set("family", FamilyNumber(af));
  // The kernel omits FRA_PRIORITY for preference 0 (the local-table rule).
  o.Set("priority", a.Has(FRA_PRIORITY) ? a.U32(FRA_PRIORITY) : 0);
  if (a.Has(FRA_SRC))
    o.Set("from", IpText(af, a.Data(FRA_SRC), a.Len(FRA_SRC)) + "/" + std::to_string(frh->src_len));
  if (a.Has(FRA_DST))
    o.Set("to", IpText(af, a.Data(FRA_DST), a.Len(FRA_DST)) + "/" + std::to_string(frh->dst_len));
  o.Set("table", a.Has(FRA_TABLE) ? a.U32(FRA_TABLE) : frh->table);
  o.Set("action", NameOr(env, kActions, frh->action));
  if (a.Has(FRA_IIFNAME)) o.Set("iif", a.Str(FRA_IIFNAME));
  if (a.Has(FRA_OIFNAME)) o.Set("oif", a.Str(FRA_OIFNAME));
  if (a.Has(FRA_FWMARK)) o.Set("fwmark", a.U32(FRA_FWMARK));
  if (a.Has(FRA_FWMASK)) o.Set("fwmask", a.U32(FRA_FWMASK));
  if (a.Has(FRA_PROTOCOL)) o.Set("proto", NameOr(env, kProtos, a.U8(FRA_PROTOCOL)));
  o.Set("flags", frh->flags);
  return o;
}

OpRegistrar r1("rule.add", {RTM_NEWRULE, NLM_F_CREATE | NLM_F_EXCL, false, Encode});
OpRegistrar r2("rule.del", {RTM_DELRULE, 0, false, Encode});
OpRegistrar r3("rule.list", {RTM_GETRULE, 0, true, EncodeList});
DecoderRegistrar d1(RTM_NEWRULE, Decode);

}  // namespace
}  // namespace mcni
