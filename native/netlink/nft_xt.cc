// The xt compat expressions iptables-nft 1.8.x writes where it has no native encoding: `match`
// (sctp, addrtype, set, conntrack, comment) and `target` (DNAT, SNAT, MASQUERADE, MARK), each
// with the revision iptables 1.8.9 picks and its info struct filled as its extension does.
#include <arpa/inet.h>
#include <linux/netfilter/nf_nat.h>
#include <linux/netfilter/x_tables.h>
#include <linux/netfilter/xt_addrtype.h>
#include <linux/netfilter/xt_comment.h>
#include <linux/netfilter/xt_conntrack.h>
#include <linux/netfilter/xt_mark.h>
#define _Bool bool  // the header's inline helpers are C
#include <linux/netfilter/xt_sctp.h>
#undef _Bool
#include <linux/netfilter/xt_set.h>
#include <linux/netfilter/nf_tables_compat.h>

#include <cstring>

#include "netlink/nft_msg.h"
#include "netlink/nft_rule.h"

#ifndef NF_NAT_RANGE_PROTO_RANDOM
#define NF_NAT_RANGE_PROTO_RANDOM (1 << 2)
#endif

namespace mcni {
namespace {

// NFTA_LIST_ELEM { NAME "match"/"target", DATA { NAME, REV, INFO (XT_ALIGNed) } }.
template <class T>
void PutXt(AttrBuf& b, const char* expr, const char* name, uint32_t rev, const T& info) {
  uint8_t buf[XT_ALIGN(sizeof(T))] = {};
  memcpy(buf, &info, sizeof(T));
  size_t e = b.Begin(NFTA_LIST_ELEM);
  b.PutStr(NFTA_EXPR_NAME, expr);
  size_t d = b.Begin(NFTA_EXPR_DATA);
  // NFTA_MATCH_NAME/REV/INFO and NFTA_TARGET_NAME/REV/INFO have the same numbers.
  b.PutStr(NFTA_MATCH_NAME, name);
  b.PutBe32(NFTA_MATCH_REV, rev);
  b.Put(NFTA_MATCH_INFO, buf, sizeof buf);
  b.End(d);
  b.End(e);
}

uint16_t AddrType(const std::string& n) {
  static const char* names[] = {"UNSPEC", "UNICAST", "LOCAL",   "BROADCAST", "ANYCAST", "MULTICAST",
                                "BLACKHOLE", "UNREACHABLE", "PROHIBIT", "THROW", "NAT", "XRESOLVE"};
  for (unsigned i = 0; i < sizeof names / sizeof *names; ++i) {
    if (n == names[i]) return 1 << i;
  }
  return 0;
}

uint16_t CtState(const std::string& s) {
  if (s == "INVALID") return XT_CONNTRACK_STATE_INVALID;
  if (s == "NEW") return XT_CONNTRACK_STATE_BIT(IP_CT_NEW);
  if (s == "RELATED") return XT_CONNTRACK_STATE_BIT(IP_CT_RELATED);
  if (s == "ESTABLISHED") return XT_CONNTRACK_STATE_BIT(IP_CT_ESTABLISHED);
  if (s == "UNTRACKED") return XT_CONNTRACK_STATE_UNTRACKED;
  if (s == "SNAT") return XT_CONNTRACK_STATE_SNAT;
  if (s == "DNAT") return XT_CONNTRACK_STATE_DNAT;
  return 0;
}

void Sctp(AttrBuf& b, const NftMatchSpec& m) {
  xt_sctp_info i{};
  for (auto& f : i.flag_info) f.chunktype = 0xff;  // libxt_sctp's init: no chunk flags (-1)
  if (m.sport.has) {
    i.spts[0] = m.sport.lo;
    i.spts[1] = m.sport.hi;
    i.flags |= XT_SCTP_SRC_PORTS;
    if (m.sport.neg) i.invflags |= XT_SCTP_SRC_PORTS;
  }
  if (m.dport.has) {
    i.dpts[0] = m.dport.lo;
    i.dpts[1] = m.dport.hi;
    i.flags |= XT_SCTP_DEST_PORTS;
    if (m.dport.neg) i.invflags |= XT_SCTP_DEST_PORTS;
  }
  PutXt(b, "match", "sctp", 0, i);
}

}  // namespace

void PutXtMatch(AttrBuf& b, const NftMatchSpec& m, uint8_t nfproto) {
  if (m.kind == "sctp") return Sctp(b, m);
  if (m.kind == "addrtype") {
    xt_addrtype_info_v1 i{};
    if (!m.src_type.empty()) i.source = AddrType(m.src_type);
    if (!m.dst_type.empty()) i.dest = AddrType(m.dst_type);
    if (m.src_neg) i.flags |= XT_ADDRTYPE_INVERT_SOURCE;
    if (m.dst_neg) i.flags |= XT_ADDRTYPE_INVERT_DEST;
    return PutXt(b, "match", "addrtype", 1, i);
  }
  if (m.kind == "set") {
    xt_set_info_match_v4 i{};
    i.match_set.index = m.set_index;
    i.match_set.dim = m.set_src.size();
    for (size_t d = 0; d < m.set_src.size(); ++d) {
      if (m.set_src[d]) i.match_set.flags |= 1 << (d + 1);  // IPSET_DIM_ONE_SRC << d
    }
    if (m.neg) i.match_set.flags |= IPSET_INV_MATCH;
    return PutXt(b, "match", "set", 4, i);
  }
  if (m.kind == "conntrack") {
    xt_conntrack_mtinfo3 i{};
    i.match_flags = XT_CONNTRACK_STATE;
    for (const std::string& s : m.states) i.state_mask |= CtState(s);
    if (m.neg) i.invert_flags = XT_CONNTRACK_STATE;
    return PutXt(b, "match", "conntrack", 3, i);
  }
  // comment
  xt_comment_info i{};
  strncpy(i.comment, m.text.c_str(), XT_MAX_COMMENT_LEN - 1);
  (void)nfproto;
  PutXt(b, "match", "comment", 0, i);
}

void PutXtTarget(AttrBuf& b, const NftTargetSpec& t, uint8_t nfproto) {
  bool v6 = nfproto == NFPROTO_IPV6;
  if (t.kind == "MARK") {
    xt_mark_tginfo2 i{};
    i.mark = t.value;
    i.mask = t.mask;
    return PutXt(b, "target", "MARK", 2, i);
  }
  uint32_t flags = 0;
  if (t.kind != "MASQUERADE") flags |= NF_NAT_RANGE_MAP_IPS;
  if (t.ports) flags |= NF_NAT_RANGE_PROTO_SPECIFIED;
  if (t.random) flags |= NF_NAT_RANGE_PROTO_RANDOM;
  // DNAT: revision 2 (nf_nat_range2) in both families. SNAT and MASQUERADE: revision 0 with the
  // IPv4 compat range, or for IPv6 nf_nat_range (SNAT revision 1, MASQUERADE revision 0).
  if (t.kind == "DNAT" || v6) {
    nf_nat_range2 r{};
    r.flags = flags;
    if (t.kind != "MASQUERADE") {
      memcpy(&r.min_addr, t.addr.data(), t.addr.size());
      memcpy(&r.max_addr, t.addr.data(), t.addr.size());
    }
    if (t.ports) {
      r.min_proto.all = htons(t.lo);
      r.max_proto.all = htons(t.hi);
    }
    if (t.kind == "DNAT") return PutXt(b, "target", "DNAT", 2, r);
    nf_nat_range r1{};
    memcpy(&r1, &r, sizeof r1);  // nf_nat_range is nf_nat_range2 without base_proto
    return PutXt(b, "target", t.kind.c_str(), t.kind == "SNAT" ? 1 : 0, r1);
  }
  nf_nat_ipv4_multi_range_compat c{};
  c.rangesize = 1;
  c.range[0].flags = flags;
  if (t.kind == "SNAT") {
    memcpy(&c.range[0].min_ip, t.addr.data(), 4);
    memcpy(&c.range[0].max_ip, t.addr.data(), 4);
  }
  if (t.ports) {
    c.range[0].min.all = htons(t.lo);
    c.range[0].max.all = htons(t.hi);
  }
  PutXt(b, "target", t.kind.c_str(), 0, c);
}

}  // namespace mcni
