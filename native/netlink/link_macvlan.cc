// macvlan and macvtap (same codec): the mode inside IFLA_INFO_DATA. The lower device is the
// top-level IFLA_LINK, which the kernel resolves in the requesting socket's namespace even when
// IFLA_NET_NS_FD creates the link elsewhere, so the handle must live where the parent does.
#include <linux/if_link.h>

#include "js.h"
#include "netlink/link.h"

namespace mcni {
namespace {

void Encode(const Napi::Object& spec, Msg& m) {
  if (Has(spec, "mode")) m.PutU32(IFLA_MACVLAN_MODE, U32(spec, "mode"));
}

const char* ModeName(uint32_t mode) {
  switch (mode) {
    case MACVLAN_MODE_PRIVATE: return "private";
    case MACVLAN_MODE_VEPA: return "vepa";
    case MACVLAN_MODE_BRIDGE: return "bridge";
    case MACVLAN_MODE_PASSTHRU: return "passthru";
    case MACVLAN_MODE_SOURCE: return "source";
    default: return "unknown";
  }
}

void Decode(Napi::Env env, const rtattr* data, Napi::Object& out) {
  Attrs a = Attrs::Nested(data, IFLA_MACVLAN_MAX);
  if (a.Has(IFLA_MACVLAN_MODE)) out.Set("mode", ModeName(a.U32(IFLA_MACVLAN_MODE)));
}

LinkKindRegistrar k1("macvlan", {Encode, Decode});
LinkKindRegistrar k2("macvtap", {Encode, Decode});

}  // namespace
}  // namespace mcni
