// VLANs of a bridge port (`bridge vlan add|del dev X vid N [pvid] [untagged]`): RTM_SETLINK to add,
// RTM_DELLINK to remove, in the AF_BRIDGE family, the entry in IFLA_AF_SPEC as a struct
// bridge_vlan_info, with IFLA_BRIDGE_FLAGS = BRIDGE_FLAGS_MASTER (the port's entry in its bridge,
// as iproute2 sends without `self`). Needs a bridge with vlan_filtering (CONFIG_BRIDGE_VLAN_FILTERING).
#include <linux/if_bridge.h>
#include <linux/if_link.h>
#include <sys/socket.h>

#include "js.h"
#include "netlink/ops.h"

namespace mcni {
namespace {

void Encode(const Napi::Object& spec, Msg& m) {
  size_t off = m.Body<ifinfomsg>();
  m.At<ifinfomsg>(off)->ifi_family = AF_BRIDGE;
  m.At<ifinfomsg>(off)->ifi_index = I32(spec, "index");
  size_t nest = m.NestBegin(IFLA_AF_SPEC);
  m.PutU16(IFLA_BRIDGE_FLAGS, BRIDGE_FLAGS_MASTER);
  bridge_vlan_info info{};
  info.vid = static_cast<uint16_t>(U32(spec, "vid"));
  if (Has(spec, "pvid") && Bool(spec, "pvid")) info.flags |= BRIDGE_VLAN_INFO_PVID;
  if (Has(spec, "untagged") && Bool(spec, "untagged")) info.flags |= BRIDGE_VLAN_INFO_UNTAGGED;
  m.Put(IFLA_BRIDGE_VLAN_INFO, &info, sizeof info);
  m.NestEnd(nest);
}

OpRegistrar add("bridgeVlan.add", {RTM_SETLINK, 0, false, Encode});
OpRegistrar del("bridgeVlan.del", {RTM_DELLINK, 0, false, Encode});

}  // namespace
}  // namespace mcni
