// netlink socket: open-in-namespace, batching, ACK collection, extended ACK, dump retry, and
// nfnetlink's transactional batches.
#include "netlink/socket.h"

#include <errno.h>
#include <linux/netlink.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#ifndef NETLINK_EXT_ACK
#define NETLINK_EXT_ACK 11
#endif
#ifndef NETLINK_GET_STRICT_CHK
#define NETLINK_GET_STRICT_CHK 12
#endif

namespace mcni {

namespace {
constexpr size_t kChunk = 64 * 1024;
constexpr size_t kRecvBuf = 256 * 1024;
constexpr int kDumpRetries = 5;

std::string ExtackText(const nlmsghdr* h) {
  if (!(h->nlmsg_flags & NLM_F_ACK_TLVS)) return "";
  auto* e = static_cast<const nlmsgerr*>(NLMSG_DATA(h));
  // With NETLINK_CAP_ACK the original request is not echoed: TLVs follow the header copy.
  size_t off = NLMSG_HDRLEN + sizeof(nlmsgerr);
  if (!(h->nlmsg_flags & NLM_F_CAPPED)) off += e->msg.nlmsg_len - NLMSG_HDRLEN;
  if (off >= h->nlmsg_len) return "";
  auto* a = reinterpret_cast<const nlattr*>(reinterpret_cast<const uint8_t*>(h) + NLMSG_ALIGN(off));
  int len = h->nlmsg_len - NLMSG_ALIGN(off);
  while (len >= (int)sizeof(nlattr) && a->nla_len >= sizeof(nlattr) && a->nla_len <= len) {
    if ((a->nla_type & NLA_TYPE_MASK) == NLMSGERR_ATTR_MSG) {
      const char* s = reinterpret_cast<const char*>(a) + NLA_HDRLEN;
      return std::string(s, strnlen(s, a->nla_len - NLA_HDRLEN));
    }
    int step = NLA_ALIGN(a->nla_len);
    len -= step;
    a = reinterpret_cast<const nlattr*>(reinterpret_cast<const uint8_t*>(a) + step);
  }
  return "";
}
}  // namespace

std::shared_ptr<NlSocket> NlSocket::OpenIn(int netns_fd, int protocol, Failure& f, bool& poisoned) {
  f.kind = "netlink";
  if (netns_fd >= 0) {
    if (int e = EnterNetns(netns_fd)) {
      f.Set(e, "enter netns to open netlink socket");
      return nullptr;
    }
  }
  UniqueFd fd(socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, protocol));
  int sock_err = fd ? 0 : errno;
  if (int e = netns_fd >= 0 ? LeaveNetns() : 0) {
    poisoned = true;  // the socket is dropped (closed) and the thread retires
    f.Set(e, "return to home netns after opening netlink socket");
    return nullptr;
  }
  if (!fd) {
    f.Set(sock_err, "open netlink socket");
    return nullptr;
  }
  int one = 1;
  setsockopt(fd.get(), SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof one);
  setsockopt(fd.get(), SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof one);
  setsockopt(fd.get(), SOL_NETLINK, NETLINK_GET_STRICT_CHK, &one, sizeof one);
  int rcvbuf = 1 << 20;
  setsockopt(fd.get(), SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
  timeval tv{30, 0};  // a wedged kernel path must not hang a worker forever
  setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  sockaddr_nl sa{};
  sa.nl_family = AF_NETLINK;
  if (bind(fd.get(), reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
    f.Set(errno, "bind netlink socket");
    return nullptr;
  }
  return std::shared_ptr<NlSocket>(new NlSocket(std::move(fd), protocol));
}

void NlSocket::Transact(std::vector<NlRequest>& reqs, Failure& f) {
  f.kind = "netlink";
  std::lock_guard<std::mutex> lock(mu_);
  size_t i = 0;
  while (i < reqs.size()) {
    if (reqs[i].dump) {
      // A dump goes alone; retry while the kernel says the table changed under it.
      for (int attempt = 0;; ++attempt) {
        reqs[i].replies.clear();
        reqs[i].err = 0;
        reqs[i].done = false;
        if (!Exchange(reqs, i, i + 1, f)) return;
        if (reqs[i].err != EINTR || attempt == kDumpRetries) break;
      }
      ++i;
      continue;
    }
    size_t j = i, bytes = 0;
    while (j < reqs.size() && !reqs[j].dump && (j == i || bytes + reqs[j].msg.size() <= kChunk)) {
      bytes += reqs[j].msg.size();
      ++j;
    }
    if (!Exchange(reqs, i, j, f)) return;
    i = j;
  }
}

bool NlSocket::Exchange(std::vector<NlRequest>& reqs, size_t from, size_t to, Failure& f) {
  std::vector<NlRequest*> part;
  for (size_t k = from; k < to; ++k) part.push_back(&reqs[k]);
  std::map<uint32_t, NlRequest*> by_seq;
  return Send(part, by_seq, f) && Collect(by_seq, part.size(), f);
}

void NlSocket::Batch(std::vector<NlRequest>& batch, NlRequest& sentinel, Failure& f) {
  f.kind = "netlink";
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<NlRequest*> first, second{&sentinel};
  for (auto& r : batch) first.push_back(&r);
  std::map<uint32_t, NlRequest*> by_seq;
  if (Send(first, by_seq, f) && Send(second, by_seq, f)) Collect(by_seq, 1, f);
}

bool NlSocket::Send(std::vector<NlRequest*>& reqs, std::map<uint32_t, NlRequest*>& by_seq, Failure& f) {
  std::vector<uint8_t> out;
  for (NlRequest* r : reqs) {
    auto* h = reinterpret_cast<nlmsghdr*>(r->msg.data());
    h->nlmsg_seq = ++seq_;
    by_seq[h->nlmsg_seq] = r;
    out.insert(out.end(), r->msg.begin(), r->msg.end());
  }
  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  if (sendto(fd_.get(), out.data(), out.size(), 0, reinterpret_cast<sockaddr*>(&kernel), sizeof kernel) < 0) {
    f.Set(errno, "send netlink request");
    return false;
  }
  return true;
}

// Read until `pending` non-quiet requests are answered (ACK, error or end of dump).
bool NlSocket::Collect(std::map<uint32_t, NlRequest*>& by_seq, size_t pending, Failure& f) {
  std::vector<uint8_t> buf(kRecvBuf);
  while (pending > 0) {
    ssize_t n = recv(fd_.get(), buf.data(), buf.size(), 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      f.Set(errno == EAGAIN ? ETIMEDOUT : errno, "receive netlink reply");
      return false;
    }
    int len = (int)n;
    for (auto* h = reinterpret_cast<nlmsghdr*>(buf.data()); NLMSG_OK(h, len); h = NLMSG_NEXT(h, len)) {
      auto it = by_seq.find(h->nlmsg_seq);
      if (it == by_seq.end()) continue;  // a late message from an earlier, failed exchange
      NlRequest& r = *it->second;
      if (r.done) continue;
      if (h->nlmsg_type == NLMSG_ERROR) {
        auto* e = static_cast<nlmsgerr*>(NLMSG_DATA(h));
        r.err = -e->error;
        r.extack = ExtackText(h);
        r.done = true;
      } else if (h->nlmsg_type == NLMSG_DONE) {
        int code = 0;
        if (h->nlmsg_len >= NLMSG_LENGTH(sizeof(int))) memcpy(&code, NLMSG_DATA(h), sizeof code);
        if (code < 0) r.err = -code;
        if (r.err == 0 && (h->nlmsg_flags & NLM_F_DUMP_INTR)) r.err = EINTR;
        r.done = true;
      } else {
        if (h->nlmsg_flags & NLM_F_DUMP_INTR) r.err = EINTR;
        // A dump's part, or a get's answer (whose ACK still follows: we always ask for one).
        r.replies.emplace_back(reinterpret_cast<uint8_t*>(h), reinterpret_cast<uint8_t*>(h) + h->nlmsg_len);
      }
      if (r.done && !r.quiet) --pending;
    }
  }
  return true;
}

}  // namespace mcni
