// sysctl read/write inside a namespace: /proc/sys/net resolves in the netns of the thread that
// opens it, and the open fd stays bound there, so a worker enters, opens, leaves, then reads/writes.
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include <string>

#include "executor.h"
#include "js.h"
#include "registry.h"

namespace mcni {
namespace {

class SysctlJob : public Job {
 public:
  SysctlJob(UniqueFd netns, std::string key, bool write, std::string value)
      : netns_(std::move(netns)), key_(std::move(key)), write_(write), value_(std::move(value)) {
    failure.kind = "sysctl";
  }
  void Execute() override {
    const std::string op = (write_ ? "write sysctl " : "read sysctl ") + key_;
    const std::string path = "/proc/sys/" + key_;
    if (netns_) {
      if (int e = EnterNetns(netns_.get())) return failure.Set(e, op + ": enter netns");
    }
    UniqueFd fd(open(path.c_str(), (write_ ? O_WRONLY : O_RDONLY) | O_CLOEXEC));
    int open_err = errno;
    if (int e = netns_ ? LeaveNetns() : 0) {
      poisoned = true;
      return failure.Set(e, op + ": return to home netns");
    }
    if (!fd) return failure.Set(open_err, op);
    if (write_) {
      if (write(fd.get(), value_.data(), value_.size()) < 0) failure.Set(errno, op + " = " + value_);
    } else {
      char buf[4096];
      ssize_t n = read(fd.get(), buf, sizeof buf);
      if (n < 0) failure.Set(errno, op);
      else value_.assign(buf, n);
    }
  }
  Napi::Value Result(Napi::Env env) override {
    if (write_) return env.Undefined();
    while (!value_.empty() && value_.back() == '\n') value_.pop_back();
    return Napi::String::New(env, value_);
  }

 private:
  UniqueFd netns_;  // empty: the home namespace
  std::string key_;
  bool write_;
  std::string value_;
};

Napi::Value Queue(const Napi::CallbackInfo& info, bool write) {
  Napi::Env env = info.Env();
  std::string key = info[1].As<Napi::String>().Utf8Value();
  std::string value = write ? info[2].As<Napi::String>().Utf8Value() : "";
  UniqueFd netns = DupNetnsFd(env, info[0].As<Napi::Number>().Int32Value(), (write ? "write sysctl " : "read sysctl ") + key, "sysctl");
  return Submit(env, std::make_unique<SysctlJob>(std::move(netns), std::move(key), write, std::move(value)));
}

// sysctlRead(netnsFd, "net/ipv4/ip_forward"): Promise<string>
Napi::Value Read(const Napi::CallbackInfo& info) { return Queue(info, false); }
// sysctlWrite(netnsFd, "net/ipv4/ip_forward", "1"): Promise<void>
Napi::Value Write(const Napi::CallbackInfo& info) { return Queue(info, true); }

ExportFn e1("sysctlRead", Read);
ExportFn e2("sysctlWrite", Write);

}  // namespace
}  // namespace mcni
