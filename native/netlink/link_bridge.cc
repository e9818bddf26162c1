// bridge: the IFLA_BR_* options we set at creation (STP, timers, VLAN filtering, IGMP/MLD
// snooping) and decode back. Timers are clock_t (hundredths of a second), as iproute2 shows them.
#include <linux/if_link.h>

#include "js.h"
#include "netlink/link.h"

namespace mcni {
namespace {

void Encode(const Napi::Object& spec, Msg& m) {
  if (Has(spec, "stp")) m.PutU32(IFLA_BR_STP_STATE, Bool(spec, "stp") ? 1 : 0);
  if (Has(spec, "forwardDelay")) m.PutU32(IFLA_BR_FORWARD_DELAY, U32(spec, "forwardDelay"));
  if (Has(spec, "ageingTime")) m.PutU32(IFLA_BR_AGEING_TIME, U32(spec, "ageingTime"));
  if (Has(spec, "vlanFiltering")) m.PutU8(IFLA_BR_VLAN_FILTERING, Bool(spec, "vlanFiltering"));
  if (Has(spec, "mcastSnooping")) m.PutU8(IFLA_BR_MCAST_SNOOPING, Bool(spec, "mcastSnooping"));
}

void Decode(Napi::Env env, const rtattr* data, Napi::Object& out) {
  Attrs a = Attrs::Nested(data, IFLA_BR_MAX);
  if (a.Has(IFLA_BR_STP_STATE)) out.Set("stp", a.U32(IFLA_BR_STP_STATE) != 0);
  if (a.Has(IFLA_BR_FORWARD_DELAY)) out.Set("forwardDelay", a.U32(IFLA_BR_FORWARD_DELAY));
  if (a.Has(IFLA_BR_AGEING_TIME)) out.Set("ageingTime", a.U32(IFLA_BR_AGEING_TIME));
  if (a.Has(IFLA_BR_VLAN_FILTERING)) out.Set("vlanFiltering", a.U8(IFLA_BR_VLAN_FILTERING) != 0);
  if (a.Has(IFLA_BR_MCAST_SNOOPING)) out.Set("mcastSnooping", a.U8(IFLA_BR_MCAST_SNOOPING) != 0);
}

LinkKindRegistrar k("bridge", {Encode, Decode});

}  // namespace
}  // namespace mcni
