// Links: the verbs shared by every kind, and a registry of kind-specific IFLA_INFO_DATA codecs.
#pragma once
#include <napi.h>

#include "netlink/message.h"

namespace mcni {

struct LinkKind {
  // Attributes inside IFLA_INFO_DATA when creating; null if the kind has none.
  void (*encode)(const Napi::Object& spec, Msg& m);
  // Adds kind-specific fields to a decoded link from its IFLA_INFO_DATA; may be null.
  void (*decode)(Napi::Env env, const rtattr* data, Napi::Object& out);
};

struct LinkKindRegistrar {
  LinkKindRegistrar(const char* kind, LinkKind k);
};

// ifinfomsg + the attributes every kind shares (name, mtu, mac, master, netns, up, ...).
// Used for the top-level link and for a veth peer nested in VETH_INFO_PEER.
void EncodeLinkCommon(const Napi::Object& spec, Msg& m);

// "aa:bb:cc:dd:ee:ff" for a hardware address attribute.
std::string MacString(const uint8_t* p, size_t n);

}  // namespace mcni
