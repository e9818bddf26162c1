// link.add / link.set / link.del / link.get / link.list and the RTM_NEWLINK decoder.
#include "netlink/link.h"

#include <linux/if.h>
#include <linux/if_link.h>
#include <linux/ip.h>
#include <sys/socket.h>

#include <map>
#include <string>

#include "executor.h"
#include "js.h"
#include "netlink/ops.h"

namespace mcni {
namespace {

std::map<std::string, LinkKind>& Kinds() {
  static std::map<std::string, LinkKind> m;
  return m;
}

const LinkKind* FindKind(const std::string& k) {
  auto it = Kinds().find(k);
  return it == Kinds().end() ? nullptr : &it->second;
}

void EncodeAdd(const Napi::Object& spec, Msg& m) {
  EncodeLinkCommon(spec, m);
  // A link made in another namespace is echoed there, to whichever socket has our port id in it
  // (one of ours, answering its own request with this one's sequence number): no echo then.
  if (Has(spec, "netnsFd")) m.Hdr()->nlmsg_flags &= ~NLM_F_ECHO;
  std::string kind = Str(spec, "kind");
  size_t info = m.NestBegin(IFLA_LINKINFO);
  m.PutStr(IFLA_INFO_KIND, kind);
  const LinkKind* k = FindKind(kind);
  if (k && k->encode) {
    size_t data = m.NestBegin(IFLA_INFO_DATA);
    k->encode(spec, m);
    m.NestEnd(data);
  }
  m.NestEnd(info);
}

// For del/get: by index, else by name (IFLA_IFNAME), else by group (del only).
void EncodeSelect(const Napi::Object& spec, Msg& m) {
  size_t off = m.Body<ifinfomsg>();
  m.At<ifinfomsg>(off)->ifi_family = AF_UNSPEC;
  m.At<ifinfomsg>(off)->ifi_index = I32(spec, "index");
  if (!Has(spec, "index") && Has(spec, "name")) m.PutStr(IFLA_IFNAME, Str(spec, "name"));
  if (Has(spec, "group")) m.PutU32(IFLA_GROUP, U32(spec, "group"));
  // Without the NUL: the kernel stores the attribute's length as the alias's, and an empty one clears it.
  if (Has(spec, "alias")) {
    std::string alias = Str(spec, "alias");
    m.Put(IFLA_IFALIAS, alias.data(), alias.size());
  }
}

void EncodeList(const Napi::Object& spec, Msg& m) {
  size_t off = m.Body<ifinfomsg>();
  m.At<ifinfomsg>(off)->ifi_family = AF_UNSPEC;
  // Kernel-side filters (honoured with NETLINK_GET_STRICT_CHK).
  if (Has(spec, "master")) m.PutU32(IFLA_MASTER, U32(spec, "master"));
  if (Has(spec, "kind")) {
    size_t info = m.NestBegin(IFLA_LINKINFO);
    m.PutStr(IFLA_INFO_KIND, Str(spec, "kind"));
    m.NestEnd(info);
  }
}

Napi::Value Decode(Napi::Env env, const nlmsghdr* h) {
  auto* ifi = static_cast<const ifinfomsg*>(NLMSG_DATA(h));
  Attrs a(IFLA_RTA(ifi), IFLA_PAYLOAD(h), IFLA_MAX);
  Napi::Object o = Napi::Object::New(env);
  o.Set("index", ifi->ifi_index);
  if (a.Has(IFLA_IFNAME)) o.Set("name", a.Str(IFLA_IFNAME));
  o.Set("flags", ifi->ifi_flags);
  o.Set("up", (ifi->ifi_flags & IFF_UP) != 0);
  o.Set("lowerUp", (ifi->ifi_flags & IFF_LOWER_UP) != 0);
  o.Set("promisc", (ifi->ifi_flags & IFF_PROMISC) != 0);
  if (a.Has(IFLA_OPERSTATE)) o.Set("operstate", a.U8(IFLA_OPERSTATE));
  if (a.Has(IFLA_MTU)) o.Set("mtu", a.U32(IFLA_MTU));
  if (a.Has(IFLA_ADDRESS)) o.Set("mac", MacString(a.Data(IFLA_ADDRESS), a.Len(IFLA_ADDRESS)));
  if (a.Has(IFLA_MASTER)) o.Set("master", a.U32(IFLA_MASTER));
  if (a.Has(IFLA_LINK)) o.Set("link", a.U32(IFLA_LINK));
  if (a.Has(IFLA_LINK_NETNSID)) o.Set("linkNetnsId", a.S32(IFLA_LINK_NETNSID));
  if (a.Has(IFLA_GROUP)) o.Set("group", a.U32(IFLA_GROUP));
  if (a.Has(IFLA_TXQLEN)) o.Set("txqlen", a.U32(IFLA_TXQLEN));
  if (a.Has(IFLA_IFALIAS) && a.Len(IFLA_IFALIAS) > 0) o.Set("alias", a.Str(IFLA_IFALIAS));
  if (a.Has(IFLA_LINKINFO)) {
    Attrs info = Attrs::Nested(a[IFLA_LINKINFO], IFLA_INFO_MAX);
    if (info.Has(IFLA_INFO_KIND)) {
      std::string kind = info.Str(IFLA_INFO_KIND);
      o.Set("kind", kind);
      const LinkKind* k = FindKind(kind);
      if (k && k->decode && info.Has(IFLA_INFO_DATA)) k->decode(env, info[IFLA_INFO_DATA], o);
    }
    if (info.Has(IFLA_INFO_SLAVE_KIND)) o.Set("slaveKind", info.Str(IFLA_INFO_SLAVE_KIND));
  }
  return o;
}

// NLM_F_ECHO: the kernel answers with the new link (its index, a veth's peer index), where it
// honours the flag for RTM_NEWLINK; the reply is collected as the request's item. Not for a link
// made in another namespace (EncodeAdd).
OpRegistrar r1("link.add", {RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL | NLM_F_ECHO, false, EncodeAdd});
// Modify in place: RTM_NEWLINK without CREATE acts on the existing device (ip link set).
OpRegistrar r2("link.set", {RTM_NEWLINK, 0, false, EncodeLinkCommon});
OpRegistrar r3("link.del", {RTM_DELLINK, 0, false, EncodeSelect});
OpRegistrar r4("link.get", {RTM_GETLINK, 0, false, EncodeSelect});
OpRegistrar r5("link.list", {RTM_GETLINK, 0, true, EncodeList});
DecoderRegistrar d1(RTM_NEWLINK, Decode);

}  // namespace

LinkKindRegistrar::LinkKindRegistrar(const char* kind, LinkKind k) { Kinds()[kind] = k; }

void EncodeLinkCommon(const Napi::Object& spec, Msg& m) {
  size_t off = m.Body<ifinfomsg>();
  auto* ifi = m.At<ifinfomsg>(off);
  ifi->ifi_family = AF_UNSPEC;
  ifi->ifi_index = I32(spec, "index");
  if (Has(spec, "up")) {
    ifi->ifi_change |= IFF_UP;
    if (Bool(spec, "up")) ifi->ifi_flags |= IFF_UP;
  }
  if (Has(spec, "promisc")) {
    ifi->ifi_change |= IFF_PROMISC;
    if (Bool(spec, "promisc")) ifi->ifi_flags |= IFF_PROMISC;
  }
  if (Has(spec, "name")) m.PutStr(IFLA_IFNAME, Str(spec, "name"));
  if (Has(spec, "mtu")) m.PutU32(IFLA_MTU, U32(spec, "mtu"));
  if (Has(spec, "mac")) m.PutBytes(IFLA_ADDRESS, Bytes(spec, "mac"));
  if (Has(spec, "master")) m.PutU32(IFLA_MASTER, U32(spec, "master"));  // 0 = nomaster
  if (Has(spec, "netnsFd")) m.PutFd(IFLA_NET_NS_FD, DupNetnsFd(spec.Env(), I32(spec, "netnsFd"), "link", "netlink"));
  if (Has(spec, "link")) m.PutU32(IFLA_LINK, U32(spec, "link"));
  if (Has(spec, "txqlen")) m.PutU32(IFLA_TXQLEN, U32(spec, "txqlen"));
  if (Has(spec, "group")) m.PutU32(IFLA_GROUP, U32(spec, "group"));
  // Without the NUL: the kernel stores the attribute's length as the alias's, and an empty one clears it.
  if (Has(spec, "alias")) {
    std::string alias = Str(spec, "alias");
    m.Put(IFLA_IFALIAS, alias.data(), alias.size());
  }
  // Per-family settings, in one IFLA_AF_SPEC. The IPv4 devconf value net.ipv4.conf.<dev>.arp_notify,
  // as the sysctl file sets it but without a path walk: a namespace's first lookup of
  // /proc/sys/net/ipv4 compares the dentries of every other namespace's (~0.7 ms with 1000
  // namespaces; docs/bridge.md). IPv6's address generation mode (IN6_ADDR_GEN_MODE_*), which the
  // kernel applies after a request's flags: it takes effect for addresses made later, i.e. set it
  // before the link is up with a carrier, not in the request that brings it up.
  bool arpNotify = Has(spec, "arpNotify"), genMode = Has(spec, "addrGenMode");
  if (arpNotify || genMode) {
    size_t af = m.NestBegin(IFLA_AF_SPEC);
    if (arpNotify) {
      size_t inet = m.NestBegin(AF_INET);
      size_t conf = m.NestBegin(IFLA_INET_CONF);
      m.PutU32(IPV4_DEVCONF_ARP_NOTIFY, Bool(spec, "arpNotify") ? 1 : 0);
      m.NestEnd(conf);
      m.NestEnd(inet);
    }
    if (genMode) {
      size_t inet6 = m.NestBegin(AF_INET6);
      m.PutU8(IFLA_INET6_ADDR_GEN_MODE, static_cast<uint8_t>(U32(spec, "addrGenMode")));
      m.NestEnd(inet6);
    }
    m.NestEnd(af);
  }
}

std::string MacString(const uint8_t* p, size_t n) {
  static const char* hex = "0123456789abcdef";
  std::string s;
  for (size_t i = 0; i < n; ++i) {
    if (i) s += ':';
    s += hex[p[i] >> 4];
    s += hex[p[i] & 15];
  }
  return s;
}

}  // namespace mcni
