// The addon's own worker threads. All blocking kernel work (netlink round trips, namespace
// switches, spawning children) runs here, never on the Node main thread or the libuv pool:
// setns is per thread and a pool thread left in a foreign netns would poison fs/DNS work.
#pragma once
#include <napi.h>

#include <memory>
#include <string>

#include "common/fd.h"

namespace mcni {

// What went wrong in a native operation; becomes a JS Error with code/errno/op/detail.
struct Failure {
  int err = 0;         // errno value; -1 for a failure without one; 0 means success
  std::string op;      // context, e.g. "open netns /var/run/netns/a"
  std::string detail;  // kernel extended-ACK text, a child's stderr, ...
  std::string kind = "native";  // "netns" | "netlink" | "spawn" | "sysctl" | "native"
  void Set(int e, std::string o, std::string d = "") {
    err = e;
    op = std::move(o);
    detail = std::move(d);
  }
};

class Job {
 public:
  virtual ~Job() = default;
  // Runs on a worker thread. Report errors through `failure`.
  virtual void Execute() = 0;
  // Runs on the main thread when Execute succeeded.
  virtual Napi::Value Result(Napi::Env env) { return env.Undefined(); }
  Failure failure;
  // Set by a job that switched namespaces and could not switch back: the thread retires.
  bool poisoned = false;
  // A job that holds its thread for as long as a child process lives (spawn) runs in a lane of
  // its own, so quick netlink round trips never queue behind a 30 ms iptables-restore.
  virtual bool LongRunning() const { return false; }
};

// Queue `job` on a worker thread of this env's addon instance; the returned promise settles on
// the main thread.
Napi::Promise Submit(Napi::Env env, std::unique_ptr<Job> job);

// Run `job` on the calling JS thread and settle the returned promise at once: only for a job
// that neither blocks nor switches namespaces (opening a socket in the home namespace, ~20 us),
// where a worker's round trip (~0.1-0.2 ms here) would be the whole cost. Same promise, same errors.
Napi::Promise RunHere(Napi::Env env, std::unique_ptr<Job> job);

// A Failure as a JS Error: message "op: strerror: detail", properties code, errno, op, detail.
Napi::Error MakeError(Napi::Env env, const Failure& f);

// The job's own copy of a namespace fd handed in from JS (-1: none, stay home), taken on the main
// thread before Submit: JS may close its Netns the moment the call returns, and the number could
// then name another file by the time a queued job uses it. Throws a JS error (EBADF: not open).
UniqueFd DupNetnsFd(Napi::Env env, int fd, const std::string& op, const char* kind);

// Enter the netns behind `fd` on this (worker) thread. Returns 0 or errno.
int EnterNetns(int fd);
// Return this worker thread to its addon instance's home namespace. Returns 0 or errno.
int LeaveNetns();
// fd of the namespace this env's addon instance was loaded in (its main thread's netns); borrowed.
int HomeNetnsFd(Napi::Env env);

// Per-env executor (threads, queues, home netns fd, completion channel) as the env's instance
// data, stopped and joined by an env cleanup hook. Throws a JS error when the home namespace
// cannot be opened: every worker pins itself to it, so without it no job could ever run.
void InitExecutor(Napi::Env env);

}  // namespace mcni
