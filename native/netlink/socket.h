// A netlink socket (rtnetlink, or nfnetlink for nf_tables) bound to one network namespace (opened
// inside it, then usable from any thread), and the batched request/ACK exchange every verb goes
// through.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/fd.h"
#include "executor.h"

namespace mcni {

struct NlRequest {
  std::vector<uint8_t> msg;
  bool dump = false;
  // Outcome, filled by Transact.
  int err = 0;              // positive errno from the kernel's NLMSG_ERROR, 0 = ACK
  std::string extack;       // the kernel's extended-ACK message, if any
  std::vector<std::vector<uint8_t>> replies;  // RTM_NEW* messages answering a get or dump
  bool done = false;
  // Part of an nf_tables batch: the kernel answers it only on error (see Batch).
  bool quiet = false;
  // Namespace fds the message names (IFLA_NET_NS_FD): the request's own duplicates, open until
  // the kernel has read the message.
  std::vector<UniqueFd> fds;
};

class NlSocket {
 public:
  // Must run on a worker thread: enters `netns_fd` (-1: stay home), opens, returns home.
  static std::shared_ptr<NlSocket> OpenIn(int netns_fd, int protocol, Failure& f, bool& poisoned);
  int protocol() const { return protocol_; }

  // Send all requests (one sendmsg per ~64 KiB) and collect every ACK/error and reply.
  // Per-request kernel errors land in each NlRequest; `f` is set only for socket failures.
  void Transact(std::vector<NlRequest>& reqs, Failure& f);

  // An nfnetlink batch (BEGIN ... END, all `quiet`) in one send, then `sentinel` (a request the
  // kernel always answers) in a second. The kernel runs a batch to its commit or abort inside the
  // first send and queues its errors before returning, so once the sentinel's answer arrives every
  // error of the batch has been read: no error means committed, whatever the kernel version acks.
  void Batch(std::vector<NlRequest>& batch, NlRequest& sentinel, Failure& f);

 private:
  NlSocket(UniqueFd fd, int protocol) : fd_(std::move(fd)), protocol_(protocol) {}
  bool Exchange(std::vector<NlRequest>& reqs, size_t from, size_t to, Failure& f);
  bool Send(std::vector<NlRequest*>& reqs, std::map<uint32_t, NlRequest*>& by_seq, Failure& f);
  bool Collect(std::map<uint32_t, NlRequest*>& by_seq, size_t pending, Failure& f);
  UniqueFd fd_;
  int protocol_;
  uint32_t seq_ = 0;
  std::mutex mu_;  // one exchange at a time on a socket
};

}  // namespace mcni
