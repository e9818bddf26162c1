// An rtnetlink socket bound to one network namespace (opened inside it, then usable from any
// thread), and the batched request/ACK exchange every verb goes through.
#pragma once
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

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
};

class NlSocket {
 public:
  // Must run on a worker thread: enters `netns_fd` (-1: stay home), opens, returns home.
  static std::shared_ptr<NlSocket> OpenIn(int netns_fd, Failure& f, bool& poisoned);
  ~NlSocket();

  // Send all requests (one sendmsg per ~64 KiB) and collect every ACK/error and reply.
  // Per-request kernel errors land in each NlRequest; `f` is set only for socket failures.
  void Transact(std::vector<NlRequest>& reqs, Failure& f);

 private:
  explicit NlSocket(int fd) : fd_(fd) {}
  bool Exchange(std::vector<NlRequest>& reqs, size_t from, size_t to, Failure& f);
  int fd_;
  uint32_t seq_ = 0;
  std::mutex mu_;  // one exchange at a time on a socket
};

}  // namespace mcni
