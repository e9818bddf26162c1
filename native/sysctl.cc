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
  SysctlJob(int netns_fd, std::string key, bool write, std::string value)
      : netns_fd_(netns_fd), key_(std::move(key)), write_(write), value_(std::move(value)) {
    failure.kind = "sysctl";
  }
  void Execute() override {
    const std::string op = (write_ ? "write sysctl " : "read sysctl ") + key_;
    const std::string path = "/proc/sys/" + key_;
    if (netns_fd_ >= 0) {
      if (int e = EnterNetns(netns_fd_)) return failure.Set(e, op + ": enter netns");
    }
    int fd = open(path.c_str(), (write_ ? O_WRONLY : O_RDONLY) | O_CLOEXEC);
    int open_err = errno;
    if (netns_fd_ >= 0 && LeaveNetns() != 0) {
      poisoned = true;
      if (fd >= 0) close(fd);
      return failure.Set(errno, op + ": return to home netns");
    }
    if (fd < 0) return failure.Set(open_err, op);
    if (write_) {
      if (write(fd, value_.data(), value_.size()) < 0) failure.Set(errno, op + " = " + value_);
    } else {
      char buf[4096];
      ssize_t n = read(fd, buf, sizeof buf);
      if (n < 0) failure.Set(errno, op);
      else value_.assign(buf, n);
    }
    close(fd);
  }
  Napi::Value Result(Napi::Env env) override {
    if (write_) return env.Undefined();
    while (!value_.empty() && value_.back() == '\n') value_.pop_back();
    return Napi::String::New(env, value_);
  }

 private:
  int netns_fd_;
  std::string key_;
  bool write_;
  std::string value_;
};

// sysctlRead(netnsFd, "net/ipv4/ip_forward"): Promise<string>
Napi::Value Read(const Napi::CallbackInfo& info) {
  return Submit(info.Env(), std::make_unique<SysctlJob>(info[0].As<Napi::Number>().Int32Value(),
                                                        info[1].As<Napi::String>().Utf8Value(), false, ""));
}
// sysctlWrite(netnsFd, "net/ipv4/ip_forward", "1"): Promise<void>
Napi::Value Write(const Napi::CallbackInfo& info) {
  return Submit(info.Env(), std::make_unique<SysctlJob>(info[0].As<Napi::Number>().Int32Value(),
                                                        info[1].As<Napi::String>().Utf8Value(), true,
                                                        info[2].As<Napi::String>().Utf8Value()));
}

ExportFn e1("sysctlRead", Read);
ExportFn e2("sysctlWrite", Write);

}  // namespace
}  // namespace mcni
