// Native nf_tables expressions of an iptables rule, as iptables-nft 1.8.x builds them (interfaces,
// protocol, addresses, tcp/udp ports, mark, counter, verdicts), the spec read from JS, and the
// canonical form used to find a rule by its spec (iptables -D). xt compat parts: nft_xt.cc.
#include "netlink/nft_rule.h"

#include <algorithm>

#include "js.h"
#include "netlink/nft_msg.h"

namespace mcni {
namespace {

PortRange ReadPorts(const Napi::Object& o, const char* k) {
  PortRange p;
  if (!Has(o, k)) return p;
  Napi::Object r = Obj(o, k);
  p.has = true;
  p.lo = U32(r, "lo");
  p.hi = U32(r, "hi");
  p.neg = Bool(r, "neg");
  return p;
}

NftAddr ReadAddr(const Napi::Object& o, const char* k) {
  NftAddr a;
  if (!Has(o, k)) return a;
  Napi::Object r = Obj(o, k);
  a.has = true;
  a.addr = Bytes(r, "addr");
  a.prefix = U32(r, "prefix");
  a.neg = Bool(r, "neg");
  return a;
}

NftIface ReadIface(const Napi::Object& o, const char* k) {
  NftIface i;
  if (!Has(o, k)) return i;
  Napi::Object r = Obj(o, k);
  i.has = true;
  i.name = Str(r, "name");
  i.neg = Bool(r, "neg");
  return i;
}

std::vector<std::string> Strings(const Napi::Object& o, const char* k) {
  std::vector<std::string> out;
  if (!Has(o, k)) return out;
  Napi::Array a = o.Get(k).As<Napi::Array>();
  for (uint32_t i = 0; i < a.Length(); ++i) out.push_back(a.Get(i).As<Napi::String>().Utf8Value());
  return out;
}

// One expression: NFTA_LIST_ELEM { NAME, DATA { fill } }.
template <class F>
void Expr(AttrBuf& out, const char* name, F fill) {
  size_t e = out.Begin(NFTA_LIST_ELEM);
  out.PutStr(NFTA_EXPR_NAME, name);
  size_t d = out.Begin(NFTA_EXPR_DATA);
  fill();
  out.End(d);
  out.End(e);
}

void Meta(AttrBuf& b, uint32_t key) {
  Expr(b, "meta", [&] {
    b.PutBe32(NFTA_META_KEY, key);
    b.PutBe32(NFTA_META_DREG, NFT_REG_1);
  });
}

void Data(AttrBuf& b, uint16_t type, const void* p, size_t len) {
  size_t n = b.Begin(type);
  b.Put(NFTA_DATA_VALUE, p, len);
  b.End(n);
}

void Cmp(AttrBuf& b, uint32_t op, const void* p, size_t len) {
  Expr(b, "cmp", [&] {
    b.PutBe32(NFTA_CMP_SREG, NFT_REG_1);
    b.PutBe32(NFTA_CMP_OP, op);
    Data(b, NFTA_CMP_DATA, p, len);
  });
}

void Payload(AttrBuf& b, uint32_t base, uint32_t offset, uint32_t len) {
  Expr(b, "payload", [&] {
    b.PutBe32(NFTA_PAYLOAD_DREG, NFT_REG_1);
    b.PutBe32(NFTA_PAYLOAD_BASE, base);
    b.PutBe32(NFTA_PAYLOAD_OFFSET, offset);
    b.PutBe32(NFTA_PAYLOAD_LEN, len);
  });
}

void Bitwise(AttrBuf& b, const void* mask, size_t len) {
  std::vector<uint8_t> zero(len, 0);
  Expr(b, "bitwise", [&] {
    b.PutBe32(NFTA_BITWISE_SREG, NFT_REG_1);
    b.PutBe32(NFTA_BITWISE_DREG, NFT_REG_1);
    b.PutBe32(NFTA_BITWISE_LEN, len);
    Data(b, NFTA_BITWISE_MASK, mask, len);
    Data(b, NFTA_BITWISE_XOR, zero.data(), len);
  });
}

uint32_t CmpOp(bool neg) { return neg ? NFT_CMP_NEQ : NFT_CMP_EQ; }

// -i/-o: the name with its NUL, or a '+' prefix without either.
void Iface(AttrBuf& b, uint32_t key, const NftIface& i) {
  Meta(b, key);
  const std::string& n = i.name;
  if (!n.empty() && n.back() == '+') {
    Cmp(b, CmpOp(i.neg), n.data(), n.size() - 1);
  } else {
    Cmp(b, CmpOp(i.neg), n.c_str(), n.size() + 1);
  }
}

// -s/-d: a load of the whole-byte prefix, or of the whole address masked when the prefix ends
// inside a byte (iptables' add_addr).
void Addr(AttrBuf& b, uint32_t offset, const NftAddr& a) {
  size_t len = a.addr.size();
  std::vector<uint8_t> mask(len, 0);
  for (uint32_t bit = 0; bit < a.prefix && bit < len * 8; ++bit) mask[bit / 8] |= 0x80 >> (bit % 8);
  bool bitwise = a.prefix % 8 != 0;
  size_t n = bitwise ? len : a.prefix / 8;
  Payload(b, NFT_PAYLOAD_NETWORK_HEADER, offset, n);
  if (bitwise) Bitwise(b, mask.data(), n);
  Cmp(b, CmpOp(a.neg), a.addr.data(), n);
}

void Port(AttrBuf& b, uint32_t offset, const PortRange& p) {
  Payload(b, NFT_PAYLOAD_TRANSPORT_HEADER, offset, 2);
  uint16_t lo = htobe16(p.lo), hi = htobe16(p.hi);
  if (p.lo == p.hi) return Cmp(b, CmpOp(p.neg), &lo, 2);
  Expr(b, "range", [&] {
    b.PutBe32(NFTA_RANGE_SREG, NFT_REG_1);
    b.PutBe32(NFTA_RANGE_OP, p.neg ? NFT_RANGE_NEQ : NFT_RANGE_EQ);
    Data(b, NFTA_RANGE_FROM_DATA, &lo, 2);
    Data(b, NFTA_RANGE_TO_DATA, &hi, 2);
  });
}

// -m tcp/-m udp natively: both single ports with the same negation as one 4-byte load; a range
// covering every port (the default) is no match at all.
void TcpUdp(AttrBuf& b, const NftMatchSpec& m) {
  const PortRange& s = m.sport;
  const PortRange& d = m.dport;
  bool single = s.has && d.has && s.lo && s.lo == s.hi && d.lo && d.lo == d.hi && s.neg == d.neg;
  if (single) {
    Payload(b, NFT_PAYLOAD_TRANSPORT_HEADER, 0, 4);
    uint32_t both = htobe32(static_cast<uint32_t>(d.lo) | (static_cast<uint32_t>(s.lo) << 16));
    return Cmp(b, CmpOp(s.neg), &both, 4);
  }
  if (s.has && (s.lo || s.hi < 0xffff)) Port(b, 0, s);
  if (d.has && (d.lo || d.hi < 0xffff)) Port(b, 2, d);
}

void Mark(AttrBuf& b, const NftMatchSpec& m) {
  Meta(b, NFT_META_MARK);
  if (m.mask != 0xffffffff) Bitwise(b, &m.mask, 4);
  Cmp(b, CmpOp(m.neg), &m.value, 4);
}

void Verdict(AttrBuf& b, int32_t code, const std::string& chain) {
  Expr(b, "immediate", [&] {
    b.PutBe32(NFTA_IMMEDIATE_DREG, NFT_REG_VERDICT);
    size_t data = b.Begin(NFTA_IMMEDIATE_DATA);
    size_t v = b.Begin(NFTA_DATA_VERDICT);
    b.PutBe32(NFTA_VERDICT_CODE, static_cast<uint32_t>(code));
    if (!chain.empty()) b.PutStr(NFTA_VERDICT_CHAIN, chain);
    b.End(v);
    b.End(data);
  });
}

}  // namespace

NftRuleSpec ReadRuleSpec(const Napi::Object& o) {
  NftRuleSpec r;
  r.chain = Str(o, "chain");
  r.iif = ReadIface(o, "iif");
  r.oif = ReadIface(o, "oif");
  if (Has(o, "proto")) {
    Napi::Object p = Obj(o, "proto");
    r.has_proto = true;
    r.proto = U32(p, "num");
    r.proto_neg = Bool(p, "neg");
  }
  r.src = ReadAddr(o, "src");
  r.dst = ReadAddr(o, "dst");
  Napi::Array ms = o.Get("matches").As<Napi::Array>();
  for (uint32_t i = 0; i < ms.Length(); ++i) {
    Napi::Object m = ms.Get(i).As<Napi::Object>();
    NftMatchSpec s;
    s.kind = Str(m, "kind");
    // Only the fields of this kind (NftMatchSpec): each lookup costs a JS string of its name.
    if (s.kind == "tcp" || s.kind == "udp" || s.kind == "sctp") {
      s.sport = ReadPorts(m, "sport");
      s.dport = ReadPorts(m, "dport");
    } else if (s.kind == "addrtype") {
      s.src_type = Str(m, "srcType");
      s.dst_type = Str(m, "dstType");
      s.src_neg = Bool(m, "srcNeg");
      s.dst_neg = Bool(m, "dstNeg");
    } else if (s.kind == "set") {
      s.name = Str(m, "name");
      for (const std::string& f : Strings(m, "flags")) s.set_src.push_back(f == "src");
      s.neg = Bool(m, "neg");
    } else if (s.kind == "mark") {
      s.neg = Bool(m, "neg");
      s.value = U32(m, "value");
      s.mask = U32(m, "mask", 0xffffffff);
    } else if (s.kind == "conntrack") {
      s.neg = Bool(m, "neg");
      s.states = Strings(m, "states");
    } else if (s.kind == "comment") {
      s.text = Str(m, "text");
    }
    r.matches.push_back(std::move(s));
  }
  Napi::Object t = Obj(o, "target");
  NftTargetSpec& x = r.target;
  x.kind = Str(t, "kind");
  if (x.kind == "jump" || x.kind == "goto") {
    x.chain = Str(t, "chain");
  } else if (x.kind == "DNAT" || x.kind == "SNAT") {
    x.addr = Bytes(t, "addr");
    Napi::Value p = t.Get("ports");
    if (Present(p)) {
      x.ports = true;
      x.lo = U32(p.As<Napi::Object>(), "lo");
      x.hi = U32(p.As<Napi::Object>(), "hi");
    }
  } else if (x.kind == "MASQUERADE") {
    x.random = Bool(t, "random");
  } else if (x.kind == "MARK") {
    x.value = U32(t, "value");
    x.mask = U32(t, "mask", 0xffffffff);
  }
  return r;
}

// The order of iptables-nft's nft_ipv4_add / nft_ipv6_add: -i, -o, -p, -s, -d, the matches in
// the order given, a counter, the target.
std::vector<uint8_t> EncodeExprs(const NftRuleSpec& r, uint8_t nfproto) {
  AttrBuf b;
  bool v6 = nfproto == NFPROTO_IPV6;
  if (r.iif.has) Iface(b, NFT_META_IIFNAME, r.iif);
  if (r.oif.has) Iface(b, NFT_META_OIFNAME, r.oif);
  if (r.has_proto) {
    Meta(b, NFT_META_L4PROTO);
    Cmp(b, CmpOp(r.proto_neg), &r.proto, 1);
  }
  if (r.src.has) Addr(b, v6 ? 8 : 12, r.src);
  if (r.dst.has) Addr(b, v6 ? 24 : 16, r.dst);
  for (const NftMatchSpec& m : r.matches) {
    if (m.kind == "tcp" || m.kind == "udp") {
      TcpUdp(b, m);
    } else if (m.kind == "mark") {
      Mark(b, m);
    } else {
      PutXtMatch(b, m, nfproto);
    }
  }
  Expr(b, "counter", [&] {
    b.PutBe64(NFTA_COUNTER_BYTES, 0);
    b.PutBe64(NFTA_COUNTER_PACKETS, 0);
  });
  const NftTargetSpec& t = r.target;
  if (t.kind == "ACCEPT") {
    Verdict(b, NF_ACCEPT, "");
  } else if (t.kind == "DROP") {
    Verdict(b, NF_DROP, "");
  } else if (t.kind == "RETURN") {
    Verdict(b, NFT_RETURN, "");
  } else if (t.kind == "jump" || t.kind == "goto") {
    Verdict(b, t.kind == "jump" ? NFT_JUMP : NFT_GOTO, t.chain);
  } else {
    PutXtTarget(b, t, nfproto);
  }
  return b.buf();
}

namespace {

struct Attr {
  uint16_t type;
  const uint8_t* p;
  size_t len;
};

std::vector<Attr> Parse(const uint8_t* p, size_t len) {
  std::vector<Attr> out;
  size_t i = 0;
  while (i + NLA_HDRLEN <= len) {
    const auto* a = reinterpret_cast<const nlattr*>(p + i);
    if (a->nla_len < NLA_HDRLEN || i + a->nla_len > len) break;
    out.push_back({static_cast<uint16_t>(a->nla_type & NLA_TYPE_MASK), p + i + NLA_HDRLEN, static_cast<size_t>(a->nla_len - NLA_HDRLEN)});
    i += NLA_ALIGN(a->nla_len);
  }
  std::stable_sort(out.begin(), out.end(), [](const Attr& x, const Attr& y) { return x.type < y.type; });
  return out;
}

void Hex(const uint8_t* p, size_t n, std::string& out) {
  static const char* d = "0123456789abcdef";
  for (size_t i = 0; i < n; ++i) {
    out += d[p[i] >> 4];
    out += d[p[i] & 15];
  }
}

bool Nested(const std::string& expr, int depth, uint16_t t) {
  if (depth == 1) return expr == "immediate" && t == NFTA_DATA_VERDICT;
  if (expr == "cmp") return t == NFTA_CMP_DATA;
  if (expr == "range") return t == NFTA_RANGE_FROM_DATA || t == NFTA_RANGE_TO_DATA;
  if (expr == "bitwise") return t == NFTA_BITWISE_MASK || t == NFTA_BITWISE_XOR;
  if (expr == "immediate") return t == NFTA_IMMEDIATE_DATA;
  return false;
}

void Canon(const std::string& expr, const uint8_t* p, size_t len, int depth, std::string& out) {
  for (const Attr& a : Parse(p, len)) {
    bool zero = std::all_of(a.p, a.p + a.len, [](uint8_t c) { return c == 0; });
    if (depth == 0 && expr == "bitwise" && a.type == NFTA_BITWISE_OP && zero) continue;
    out += std::to_string(a.type) + "=";
    if (Nested(expr, depth, a.type)) {
      out += "{";
      Canon(expr, a.p, a.len, depth + 1, out);
      out += "}";
    } else {
      Hex(a.p, a.len, out);
    }
    out += ",";
  }
}

}  // namespace

std::string CanonicalExprs(const uint8_t* p, size_t len) {
  std::string out;
  for (const Attr& elem : Parse(p, len)) {
    std::string name;
    const Attr* data = nullptr;
    std::vector<Attr> parts = Parse(elem.p, elem.len);
    for (const Attr& a : parts) {
      if (a.type == NFTA_EXPR_NAME) name.assign(reinterpret_cast<const char*>(a.p), strnlen(reinterpret_cast<const char*>(a.p), a.len));
      if (a.type == NFTA_EXPR_DATA) data = &a;
    }
    out += name + "(";
    if (data && name != "counter") Canon(name, data->p, data->len, 0, out);  // counters: values differ
    out += ")";
  }
  return out;
}

}  // namespace mcni
