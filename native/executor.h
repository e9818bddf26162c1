// The addon's own worker threads. All blocking kernel work (netlink round trips, namespace
// switches, spawning children) runs here, never on the Node main thread or the libuv pool:
// setns is per thread and a pool thread left in a foreign netns would poison fs/DNS work.
#pragma once
#include <napi.h>

#include <memory>
#include <string>

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

// Queue `job` on a worker thread; the returned promise settles on the main thread.
Napi::Promise Submit(Napi::Env env, std::unique_ptr<Job> job);

// A Failure as a JS Error: message "op: strerror: detail", properties code, errno, op, detail.
Napi::Error MakeError(Napi::Env env, const Failure& f);

// Enter the netns behind `fd` on this (worker) thread. Returns 0 or errno.
int EnterNetns(int fd);
// Return this worker thread to the process's home namespace. Returns 0 or errno.
int LeaveNetns();
// fd of the namespace the addon was loaded in (the main thread's netns).
int HomeNetnsFd();

void InitExecutor(Napi::Env env, Napi::Object exports);

}  // namespace mcni
