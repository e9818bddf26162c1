// flock(2) for lock files shared with other programs (the reference host-local plugin locks
// <dataDir>/<network>/lock this way). Node has no flock; the wait blocks a worker (of the lane for
// jobs that wait), not the loop.
#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <string>

#include "executor.h"
#include "registry.h"

namespace mcni {
namespace {

class LockJob : public Job {
 public:
  explicit LockJob(std::string path) : path_(std::move(path)) { failure.kind = "native"; }
  void Execute() override {
    fd_ = open(path_.c_str(), O_RDONLY | O_CREAT | O_CLOEXEC, 0644);
    if (fd_ < 0) return failure.Set(errno, "open lock file " + path_);
    while (flock(fd_, LOCK_EX) != 0) {
      if (errno == EINTR) continue;
      failure.Set(errno, "lock " + path_);
      close(fd_);
      return;
    }
  }
  Napi::Value Result(Napi::Env env) override { return Napi::Number::New(env, fd_); }
  // It waits for another process to unlock, for as long as that takes: not in the quick lane.
  bool LongRunning() const override { return true; }

 private:
  std::string path_;
  int fd_ = -1;
};

// fileLock(path): Promise<fd> — exclusive flock, held until fileUnlock(fd).
Napi::Value Lock(const Napi::CallbackInfo& info) {
  return Submit(info.Env(), std::make_unique<LockJob>(info[0].As<Napi::String>().Utf8Value()));
}
// fileUnlock(fd): closing the descriptor releases the lock.
Napi::Value Unlock(const Napi::CallbackInfo& info) {
  close(info[0].As<Napi::Number>().Int32Value());
  return info.Env().Undefined();
}

ExportFn e1("fileLock", Lock);
ExportFn e2("fileUnlock", Unlock);

}  // namespace
}  // namespace mcni
