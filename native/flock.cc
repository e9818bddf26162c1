// flock(2) for lock files shared with other programs (the reference host-local plugin locks
// <dataDir>/<network>/lock this way). Node has no flock; the wait runs on a worker (of the lane
// for jobs that wait), not the loop, and is bounded: a holder that never lets go makes the waiter
// fail with ETIMEDOUT instead of hanging it (and, in the daemon, a thread) for good.
#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <string>

#include "common/fd.h"
#include "executor.h"
#include "registry.h"

namespace mcni {
namespace {

int64_t NowMs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

class LockJob : public Job {
 public:
  LockJob(std::string path, int64_t timeout_ms) : path_(std::move(path)), timeout_ms_(timeout_ms) { failure.kind = "native"; }
  void Execute() override {
    const int64_t deadline = NowMs() + timeout_ms_;
    for (;;) {
      // O_NONBLOCK: a FIFO planted at the path must not block the open itself.
      UniqueFd fd(open(path_.c_str(), O_RDONLY | O_CREAT | O_CLOEXEC | O_NONBLOCK | O_NOCTTY, 0644));
      if (!fd) return failure.Set(errno, "open lock file " + path_);
      if (!Acquire(fd.get(), deadline)) return;
      // A holder may have unlinked the file before letting go (fileUnlock with unlink): the lock
      // we now hold is on a file nobody else will open again. Start over on the path's file.
      struct stat held, now;
      if (fstat(fd.get(), &held) == 0 && stat(path_.c_str(), &now) == 0 && held.st_dev == now.st_dev && held.st_ino == now.st_ino) {
        fd_ = std::move(fd);
        return;
      }
    }
  }
  // The fd holding the lock goes to JS, which releases it with fileUnlock.
  Napi::Value Result(Napi::Env env) override { return Napi::Number::New(env, fd_.release()); }
  // It waits for another process to unlock: not in the quick lane.
  bool LongRunning() const override { return true; }

 private:
  // Poll with LOCK_NB (1 ms, doubling to 50 ms): a blocking flock cannot be given a deadline.
  bool Acquire(int fd, int64_t deadline) {
    int64_t pause = 1;
    for (;;) {
      if (flock(fd, LOCK_EX | LOCK_NB) == 0) return true;
      int e = errno;
      if (e != EWOULDBLOCK && e != EINTR) {
        failure.Set(e, "lock " + path_);
        return false;
      }
      int64_t left = deadline - NowMs();
      if (left <= 0) {
        failure.Set(ETIMEDOUT, "lock " + path_, "held by another process for more than " + std::to_string(timeout_ms_) + " ms");
        return false;
      }
      int64_t ms = std::min(pause, left);
      timespec ts{time_t(ms / 1000), long(ms % 1000) * 1000000};
      nanosleep(&ts, nullptr);
      pause = std::min<int64_t>(pause * 2, 50);
    }
  }

  std::string path_;
  int64_t timeout_ms_;
  UniqueFd fd_;  // the lock, once held
};

// fileLock(path, timeoutMs): Promise<fd> — exclusive flock, held until fileUnlock(fd). Rejects
// with ETIMEDOUT when another holder keeps it longer than timeoutMs.
Napi::Value Lock(const Napi::CallbackInfo& info) {
  int64_t timeout = info[1].As<Napi::Number>().Int64Value();
  return Submit(info.Env(), std::make_unique<LockJob>(info[0].As<Napi::String>().Utf8Value(), timeout));
}
// fileTryLock(path): the fd holding the lock, or -1 when another holder has it — one try of what
// LockJob does, on the calling thread: open (non-blocking, so a FIFO cannot stall it) and flock
// with LOCK_NB never wait, and an uncontended lock is then taken without a round trip through a
// worker (~0.1-0.3 ms each, two per ADD). The caller waits with fileLock when it gets -1.
Napi::Value TryLock(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const std::string path = info[0].As<Napi::String>().Utf8Value();
  UniqueFd fd(open(path.c_str(), O_RDONLY | O_CREAT | O_CLOEXEC | O_NONBLOCK | O_NOCTTY, 0644));
  if (!fd) throw MakeError(env, Failure{errno, "open lock file " + path});
  if (flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
    int e = errno;
    if (e == EWOULDBLOCK || e == EINTR) return Napi::Number::New(env, -1);
    throw MakeError(env, Failure{e, "lock " + path});
  }
  // As LockJob: a lock on a file its last holder unlinked is no lock on the path.
  struct stat held, now;
  if (fstat(fd.get(), &held) != 0 || stat(path.c_str(), &now) != 0 || held.st_dev != now.st_dev || held.st_ino != now.st_ino) {
    return Napi::Number::New(env, -1);
  }
  return Napi::Number::New(env, fd.release());
}
// fileUnlock(fd, unlinkPath?): closing the descriptor releases the lock. With unlinkPath, the lock
// file is removed first, while still held (LockJob's waiters then start over on a new file).
Napi::Value Unlock(const Napi::CallbackInfo& info) {
  if (info.Length() > 1 && info[1].IsString()) unlink(info[1].As<Napi::String>().Utf8Value().c_str());
  close(info[0].As<Napi::Number>().Int32Value());  // JS hands back the fd fileLock gave it
  return info.Env().Undefined();
}

ExportFn e1("fileLock", Lock);
ExportFn e2("fileUnlock", Unlock);
ExportFn e3("fileTryLock", TryLock);

}  // namespace
}  // namespace mcni
