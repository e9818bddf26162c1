// One iptables rule as nf_tables expressions, in the form iptables-nft 1.8.x writes it: native
// expressions for interfaces, protocol, addresses, tcp/udp ports and mark; xt compat `match` and
// `target` expressions (with iptables' info structs) for everything else; a counter before the
// verdict. The spec is lib/iptables/nft-rule.ts's lowering of a validated rule.
#pragma once
#include <napi.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace mcni {

struct PortRange {
  bool has = false;
  uint16_t lo = 0, hi = 0xffff;
  bool neg = false;
};
struct NftMatchSpec {
  std::string kind;  // tcp udp sctp addrtype set mark conntrack comment
  PortRange sport, dport;
  std::string src_type, dst_type;  // addrtype
  bool src_neg = false, dst_neg = false;
  std::string name;                 // set
  std::vector<bool> set_src;        // set: one per dimension, true = src
  bool neg = false;                 // set, mark, conntrack
  uint32_t value = 0, mask = 0xffffffff;  // mark
  std::vector<std::string> states;  // conntrack
  std::string text;                 // comment
  uint16_t set_index = 0;           // set: resolved on the worker (in the rule's namespace)
};
struct NftAddr {
  bool has = false;
  std::vector<uint8_t> addr;  // network byte order, host bits clear
  uint32_t prefix = 0;
  bool neg = false;
};
struct NftIface {
  bool has = false;
  std::string name;  // a trailing '+' matches the prefix
  bool neg = false;
};
struct NftTargetSpec {
  std::string kind;  // ACCEPT DROP RETURN jump goto DNAT SNAT MASQUERADE MARK
  std::string chain;
  std::vector<uint8_t> addr;
  bool ports = false;
  uint16_t lo = 0, hi = 0;
  bool random = false;
  uint32_t value = 0, mask = 0xffffffff;
};
struct NftRuleSpec {
  std::string chain;
  NftIface iif, oif;
  bool has_proto = false;
  uint8_t proto = 0;
  bool proto_neg = false;
  NftAddr src, dst;
  std::vector<NftMatchSpec> matches;
  NftTargetSpec target;
};

// Main thread: copy the JS spec (validated in TypeScript) into plain C++.
NftRuleSpec ReadRuleSpec(const Napi::Object& o);

// Worker: the contents of NFTA_RULE_EXPRESSIONS for `r` in family NFPROTO_IPV4/IPV6.
std::vector<uint8_t> EncodeExprs(const NftRuleSpec& r, uint8_t nfproto);

// The xt `match` / `target` expression data (name, revision, info) of a non-native match or a
// non-verdict target, appended to `out` as one NFTA_LIST_ELEM (nft_xt.cc).
class AttrBuf;
void PutXtMatch(AttrBuf& out, const NftMatchSpec& m, uint8_t nfproto);
void PutXtTarget(AttrBuf& out, const NftTargetSpec& t, uint8_t nfproto);

// A canonical text of an expression list (from our encoder or a kernel dump) for "is this the
// same rule": attributes in type order, nests recursed, counters' values and a bitwise's default
// operation dropped. Equal texts: the rule iptables -D would match.
std::string CanonicalExprs(const uint8_t* p, size_t len);

}  // namespace mcni
