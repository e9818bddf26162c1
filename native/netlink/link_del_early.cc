// Deleting a veth and answering once the kernel has unlisted it, not once it has freed it.
//
// RTM_DELLINK of a veth unregisters both ends in one batch: each is unlisted (gone from every
// dump, its name free), then, end by end in the order dev, peer, the protocols drop its addresses,
// routes and bridge port and the kernel multicasts its RTM_DELLINK. Only then does the request
// wait out an RCU barrier (netdev_run_todo: 15-30 ms here) before the kernel frees the devices and
// ACKs. This job sends the request from a thread of its own and completes when the peer's
// notification (the last end of the batch) is seen in the peer's namespace, or when the ACK
// arrives, whichever comes first; the thread waits out the barrier and drops its socket reference.
#include <errno.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <thread>

#include "executor.h"
#include "js.h"
#include "netlink/handle.h"
#include "netlink/message.h"
#include "netlink/ops.h"
#include "registry.h"

namespace mcni {
namespace {

// What the sending thread hands back: the request's outcome, then one eventfd tick.
struct Outcome {
  UniqueFd done;  // eventfd
  Failure failure;
  NlRequest req;
  std::atomic<bool> finished{false};  // release: failure and req written
};

// A route socket in `netns_fd` (-1: home) subscribed to link notifications.
UniqueFd OpenWatch(int netns_fd, Failure& f, bool& poisoned) {
  if (netns_fd >= 0) {
    if (int e = EnterNetns(netns_fd)) {
      f.Set(e, "enter netns to watch links");
      return UniqueFd();
    }
  }
  UniqueFd fd(socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_ROUTE));
  int sock_err = fd ? 0 : errno;
  if (int e = netns_fd >= 0 ? LeaveNetns() : 0) {
    poisoned = true;
    f.Set(e, "return to home netns after opening a link watch");
    return UniqueFd();
  }
  if (!fd) {
    f.Set(sock_err, "open link watch socket");
    return UniqueFd();
  }
  sockaddr_nl sa{};
  sa.nl_family = AF_NETLINK;
  sa.nl_groups = RTMGRP_LINK;
  if (bind(fd.get(), reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
    f.Set(errno, "bind link watch socket");
    return UniqueFd();
  }
  return fd;
}

// Whether the datagram in `buf` holds the generic (AF_UNSPEC) RTM_DELLINK of `index`.
bool SawDelete(const uint8_t* buf, ssize_t n, uint32_t index) {
  int len = static_cast<int>(n);
  for (auto* h = reinterpret_cast<const nlmsghdr*>(buf); NLMSG_OK(h, len); h = NLMSG_NEXT(h, len)) {
    if (h->nlmsg_type != RTM_DELLINK || h->nlmsg_len < NLMSG_LENGTH(sizeof(ifinfomsg))) continue;
    auto* ifi = static_cast<const ifinfomsg*>(NLMSG_DATA(h));
    if (ifi->ifi_family == AF_UNSPEC && static_cast<uint32_t>(ifi->ifi_index) == index) return true;
  }
  return false;
}

class DelLinkEarlyJob : public Job {
 public:
  DelLinkEarlyJob(SocketRef s, NlRequest req, UniqueFd peer_ns, uint32_t peer_index)
      : sock_(std::move(s)), req_(std::move(req)), peer_ns_(std::move(peer_ns)), peer_index_(peer_index) {}

  void Execute() override {
    // Subscribed before the request is sent, so the notification cannot be missed. Without a
    // watch (it could not be opened) the ACK decides, as for a plain delete.
    Failure watch_failure;
    UniqueFd watch = OpenWatch(peer_ns_.get(), watch_failure, poisoned);
    if (poisoned) {
      failure = watch_failure;
      return;
    }
    auto out = std::make_shared<Outcome>();
    out->done = UniqueFd(eventfd(0, EFD_CLOEXEC));
    out->req = std::move(req_);
    if (!watch || !out->done || !StartSender(out)) {
      std::vector<NlRequest> reqs;
      reqs.push_back(std::move(out->req));
      sock_->Transact(reqs, failure);
      err_ = reqs[0].err;
      extack_ = reqs[0].extack;
      return;
    }
    pollfd fds[2] = {{out->done.get(), POLLIN, 0}, {watch.get(), POLLIN, 0}};
    int nfds = 2;
    uint8_t buf[16384];
    for (;;) {
      if (poll(fds, nfds, -1) < 0) {
        if (errno == EINTR) continue;
        break;  // cannot wait on both: the ACK decides (the read below blocks until its tick)
      }
      if (fds[0].revents) break;
      if (nfds == 2 && fds[1].revents) {
        ssize_t n = recv(watch.get(), buf, sizeof buf, 0);
        if (n > 0 && SawDelete(buf, n, peer_index_)) {
          early_ = true;
          return;
        }
        // ENOBUFS (notifications overflowed the buffer) or another error: the ACK decides.
        if (n < 0 && errno != EAGAIN && errno != EINTR) nfds = 1;
      }
    }
    uint64_t tick;
    (void)!read(out->done.get(), &tick, sizeof tick);
    while (!out->finished.load(std::memory_order_acquire)) std::this_thread::yield();
    failure = out->failure;
    err_ = out->req.err;
    extack_ = out->req.extack;
  }

  Napi::Value Result(Napi::Env env) override {
    Napi::Object o = Napi::Object::New(env);
    o.Set("errno", err_);
    if (!extack_.empty()) o.Set("extack", extack_);
    o.Set("early", early_);
    return o;
  }

 private:
  // The request goes out from a thread of its own, which keeps the socket and the outcome alive
  // until the kernel has answered; false if no thread could be started.
  bool StartSender(const std::shared_ptr<Outcome>& out) {
    try {
      std::thread([sock = sock_, out] {
        std::vector<NlRequest> reqs;
        reqs.push_back(std::move(out->req));
        sock->Transact(reqs, out->failure);
        out->req = std::move(reqs[0]);
        out->finished.store(true, std::memory_order_release);
        uint64_t one = 1;
        (void)!write(out->done.get(), &one, sizeof one);
      }).detach();
      return true;
    } catch (const std::system_error&) {
      return false;
    }
  }

  SocketRef sock_;
  NlRequest req_;
  UniqueFd peer_ns_;  // empty: the home namespace
  uint32_t peer_index_;
  int err_ = 0;
  std::string extack_;
  bool early_ = false;
};

// netlinkDelLinkEarly(handle, spec: link.del's, peerNetnsFd (-1: home), peerIndex):
//   Promise<{errno, extack?, early}>; `early`: answered on the peer's notification.
Napi::Value DelLinkEarly(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  SocketRef sock = OpenSocket(env, info[0], NETLINK_ROUTE, "netlinkDelLinkEarly");
  Msg m(RTM_DELLINK, NLM_F_REQUEST | NLM_F_ACK);
  FindOp("link.del")->encode(info[1].As<Napi::Object>(), m);
  NlRequest r;
  r.msg = m.Take();
  UniqueFd peer_ns = DupNetnsFd(env, info[2].As<Napi::Number>().Int32Value(), "delete link", "netlink");
  uint32_t peer_index = info[3].As<Napi::Number>().Uint32Value();
  return Submit(env, std::make_unique<DelLinkEarlyJob>(std::move(sock), std::move(r), std::move(peer_ns), peer_index));
}

ExportFn e("netlinkDelLinkEarly", DelLinkEarly);

}  // namespace
}  // namespace mcni
