// The JS-side handle of an open netlink socket (an External), shared by the rtnetlink and the
// nf_tables entry points.
#pragma once
#include <napi.h>

#include <memory>

#include "netlink/socket.h"

namespace mcni {

using SocketRef = std::shared_ptr<NlSocket>;
struct HandleBox {
  SocketRef sock;  // null once closed; in-flight jobs keep their own reference
};

inline HandleBox* Box(const Napi::Value& v) { return v.As<Napi::External<HandleBox>>().Data(); }

// The open socket behind `v`, of `protocol`; throws a JS error otherwise.
inline SocketRef OpenSocket(Napi::Env env, const Napi::Value& v, int protocol, const char* fn) {
  HandleBox* box = Box(v);
  if (!box->sock) throw Napi::Error::New(env, std::string(fn) + ": netlink handle is closed");
  if (box->sock->protocol() != protocol) throw Napi::TypeError::New(env, std::string(fn) + ": handle of the wrong netlink protocol");
  return box->sock;
}

}  // namespace mcni
