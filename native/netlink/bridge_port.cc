// Bridge port options (`bridge link set dev X hairpin on learning off ...`): RTM_SETLINK in the
// AF_BRIDGE family, the options nested in IFLA_PROTINFO. The nest must carry NLA_F_NESTED: without
// it br_setlink reads IFLA_PROTINFO as the legacy one-byte STP port state.
#include <linux/if_link.h>
#include <sys/socket.h>

#include "js.h"
#include "netlink/ops.h"

namespace mcni {
namespace {

struct Flag {
  const char* key;
  uint16_t type;
};
constexpr Flag kFlags[] = {
    {"hairpin", IFLA_BRPORT_MODE},          {"learning", IFLA_BRPORT_LEARNING},
    {"flood", IFLA_BRPORT_UNICAST_FLOOD},   {"mcastFlood", IFLA_BRPORT_MCAST_FLOOD},
    {"bcastFlood", IFLA_BRPORT_BCAST_FLOOD}, {"guard", IFLA_BRPORT_GUARD},
    {"rootBlock", IFLA_BRPORT_PROTECT},     {"fastLeave", IFLA_BRPORT_FAST_LEAVE},
    {"proxyArp", IFLA_BRPORT_PROXYARP},     {"neighSuppress", IFLA_BRPORT_NEIGH_SUPPRESS},
    {"isolated", IFLA_BRPORT_ISOLATED},
};

void Encode(const Napi::Object& spec, Msg& m) {
  size_t off = m.Body<ifinfomsg>();
  m.At<ifinfomsg>(off)->ifi_family = AF_BRIDGE;
  m.At<ifinfomsg>(off)->ifi_index = I32(spec, "index");
  size_t nest = m.NestBegin(IFLA_PROTINFO | NLA_F_NESTED);
  for (const Flag& f : kFlags) {
    if (Has(spec, f.key)) m.PutU8(f.type, Bool(spec, f.key) ? 1 : 0);
  }
  if (Has(spec, "cost")) m.PutU32(IFLA_BRPORT_COST, U32(spec, "cost"));
  if (Has(spec, "priority")) m.PutU16(IFLA_BRPORT_PRIORITY, static_cast<uint16_t>(U32(spec, "priority")));
  m.NestEnd(nest);
}

OpRegistrar r("bridgePort.set", {RTM_SETLINK, 0, false, Encode});

}  // namespace
}  // namespace mcni
