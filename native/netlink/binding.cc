// JS entry points for netlink: open a handle in a namespace, run a batch of verbs, close.
#include <napi.h>

#include "executor.h"
#include "js.h"
#include "netlink/ops.h"
#include "netlink/handle.h"
#include "registry.h"

namespace mcni {
namespace {

class OpenJob : public Job {
 public:
  OpenJob(UniqueFd netns, int protocol) : netns_(std::move(netns)), protocol_(protocol) {}
  void Execute() override { sock_ = NlSocket::OpenIn(netns_.get(), protocol_, failure, poisoned); }
  Napi::Value Result(Napi::Env env) override {
    return Napi::External<HandleBox>::New(env, new HandleBox{sock_},
                                          [](Napi::Env, HandleBox* b) { delete b; });
  }

 private:
  UniqueFd netns_;  // empty: the home namespace
  int protocol_;
  SocketRef sock_;
};

// Drops a socket reference on a worker: closing an nfnetlink socket whose owner deleted rules
// waits for an RCU grace period (~25 ms), which must not stall the event loop.
class ReleaseJob : public Job {
 public:
  explicit ReleaseJob(SocketRef s) : sock_(std::move(s)) {}
  void Execute() override { sock_.reset(); }

 private:
  SocketRef sock_;
};

class RequestJob : public Job {
 public:
  RequestJob(SocketRef s, std::vector<NlRequest> reqs) : sock_(std::move(s)), reqs_(std::move(reqs)) {}
  void Execute() override { sock_->Transact(reqs_, failure); }
  Napi::Value Result(Napi::Env env) override {
    Napi::Array out = Napi::Array::New(env, reqs_.size());
    for (size_t i = 0; i < reqs_.size(); ++i) {
      const NlRequest& r = reqs_[i];
      Napi::Object o = Napi::Object::New(env);
      o.Set("errno", r.err);
      if (!r.extack.empty()) o.Set("extack", r.extack);
      Napi::Array items = Napi::Array::New(env);
      uint32_t n = 0;
      for (const auto& raw : r.replies) {
        auto* h = reinterpret_cast<const nlmsghdr*>(raw.data());
        if (Decoder d = FindDecoder(h->nlmsg_type)) {
          Napi::Value v = d(env, h);
          if (!v.IsUndefined()) items.Set(n++, v);
        }
      }
      o.Set("items", items);
      out.Set(i, o);
    }
    return out;
  }

 private:
  SocketRef sock_;
  std::vector<NlRequest> reqs_;
};

// netlinkOpen(netnsFd: number (-1 = the addon's home netns), protocol = NETLINK_ROUTE): Promise<handle>
Napi::Value Open(const Napi::CallbackInfo& info) {
  int protocol = info.Length() > 1 && info[1].IsNumber() ? info[1].As<Napi::Number>().Int32Value() : NETLINK_ROUTE;
  if (protocol != NETLINK_ROUTE && protocol != NETLINK_NETFILTER) {
    throw Napi::TypeError::New(info.Env(), "netlinkOpen: protocol must be NETLINK_ROUTE or NETLINK_NETFILTER");
  }
  UniqueFd netns = DupNetnsFd(info.Env(), info[0].As<Napi::Number>().Int32Value(), "open netlink socket", "netlink");
  // In the home namespace (this JS thread's, which never switches) a socket is opened right here.
  bool home = !netns;
  auto job = std::make_unique<OpenJob>(std::move(netns), protocol);
  return home ? RunHere(info.Env(), std::move(job)) : Submit(info.Env(), std::move(job));
}

// netlinkRequest(handle, ops: {op: string, spec: object}[]): Promise<{errno, extack?, items}[]>
Napi::Value Request(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  SocketRef sock = OpenSocket(env, info[0], NETLINK_ROUTE, "netlinkRequest");
  Napi::Array ops = info[1].As<Napi::Array>();
  std::vector<NlRequest> reqs;
  reqs.reserve(ops.Length());
  for (uint32_t i = 0; i < ops.Length(); ++i) {
    Napi::Object op = ops.Get(i).As<Napi::Object>();
    std::string name = Str(op, "op");
    const OpDef* def = FindOp(name);
    if (!def) throw Napi::TypeError::New(env, "unknown netlink op " + name);
    if (def->dump && ops.Length() != 1) throw Napi::TypeError::New(env, "a dump must be sent alone: " + name);
    uint16_t flags = NLM_F_REQUEST | (def->dump ? NLM_F_DUMP : NLM_F_ACK) | def->flags;
    Msg m(def->type, flags);
    def->encode(Obj(op, "spec"), m);
    NlRequest r;
    r.msg = m.Take();
    r.fds = m.TakeFds();
    r.dump = def->dump;
    reqs.push_back(std::move(r));
  }
  return Submit(env, std::make_unique<RequestJob>(std::move(sock), std::move(reqs)));
}

// netlinkClose(handle): the socket closes once no request is using it.
Napi::Value Close(const Napi::CallbackInfo& info) {
  HandleBox* box = Box(info[0]);
  if (box->sock && box->sock->protocol() == NETLINK_NETFILTER) {
    Submit(info.Env(), std::make_unique<ReleaseJob>(std::move(box->sock)));
  }
  box->sock.reset();
  return info.Env().Undefined();
}

ExportFn e1("netlinkOpen", Open);
ExportFn e2("netlinkRequest", Request);
ExportFn e3("netlinkClose", Close);

}  // namespace
}  // namespace mcni
