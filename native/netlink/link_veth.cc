// veth: both ends in one request, the peer born directly in its namespace (VETH_INFO_PEER
// carries its own ifinfomsg with IFLA_NET_NS_FD): moving a link later costs fifty times as much.
#include <linux/veth.h>

#include "js.h"
#include "netlink/link.h"

namespace mcni {
namespace {

void Encode(const Napi::Object& spec, Msg& m) {
  size_t peer = m.NestBegin(VETH_INFO_PEER);
  EncodeLinkCommon(Obj(spec, "peer"), m);
  m.NestEnd(peer);
}

LinkKindRegistrar k("veth", {Encode, nullptr});

}  // namespace
}  // namespace mcni
