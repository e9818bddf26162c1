// Worker pool + completion delivery for every asynchronous native call.
#include "executor.h"

#include <fcntl.h>
#include <sched.h>
#include <string.h>
#include <unistd.h>

#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

namespace mcni {
namespace {

// Two lanes of lazily started threads: quick jobs (netlink, netns, sysctl) and jobs that wait
// on a child process. A child of a deleting iptables-restore lives ~30 ms (an RCU grace period at
// its socket's close); 32 of them at once is more than 2 cores start, so the lane is never the
// limit, while a thread costs ~8 MiB of address space and a few KiB of memory while it lives.
struct Lane {
  int max_threads;
  std::deque<struct Pending*>& queue;
  int live = 0;
  int idle = 0;  // threads waiting for a job
};

struct Pending {
  std::unique_ptr<Job> job;
  Napi::Promise::Deferred deferred;
};

// Never destroyed: detached workers may still wait on these while the process exits, and
// destroying a condition variable with waiters blocks in glibc.
std::mutex& g_mu = *new std::mutex;
std::condition_variable& g_cv = *new std::condition_variable;
Lane& g_quick = *new Lane{4, *new std::deque<Pending*>};
Lane& g_long = *new Lane{32, *new std::deque<Pending*>};
int g_home_fd = -1;
napi_threadsafe_function g_tsfn = nullptr;
size_t g_in_flight = 0;  // main thread only

void Complete(napi_env env, napi_value, void*, void* data) {
  auto* p = static_cast<Pending*>(data);
  if (env != nullptr) {
    Napi::Env e(env);
    Napi::HandleScope scope(e);
    if (p->job->failure.err != 0) {
      p->deferred.Reject(MakeError(e, p->job->failure).Value());
    } else {
      Napi::Value v = p->job->Result(e);
      if (e.IsExceptionPending()) {
        p->deferred.Reject(e.GetAndClearPendingException().Value());
      } else {
        p->deferred.Resolve(v);
      }
    }
    if (--g_in_flight == 0) napi_unref_threadsafe_function(env, g_tsfn);
  }
  delete p;
}

void SpawnWorker(Lane* lane);

void WorkerLoop(Lane* lane) {
  // A new thread inherits the netns of its creator; pin it to home explicitly.
  if (setns(g_home_fd, CLONE_NEWNET) != 0) {
    std::lock_guard<std::mutex> lock(g_mu);
    --lane->live;
    return;
  }
  for (;;) {
    Pending* p;
    {
      std::unique_lock<std::mutex> lock(g_mu);
      ++lane->idle;
      g_cv.wait(lock, [lane] { return !lane->queue.empty(); });
      --lane->idle;
      p = lane->queue.front();
      lane->queue.pop_front();
    }
    p->job->Execute();
    bool poisoned = p->job->poisoned;
    napi_call_threadsafe_function(g_tsfn, p, napi_tsfn_blocking);
    if (poisoned) {
      // This thread may still be in a foreign namespace: never run another job on it.
      {
        std::lock_guard<std::mutex> lock(g_mu);
        --lane->live;
      }
      SpawnWorker(lane);
      return;
    }
  }
}

void SpawnWorker(Lane* lane) {
  {
    std::lock_guard<std::mutex> lock(g_mu);
    ++lane->live;
  }
  std::thread(WorkerLoop, lane).detach();
}

}  // namespace

int HomeNetnsFd() { return g_home_fd; }

int EnterNetns(int fd) { return setns(fd, CLONE_NEWNET) == 0 ? 0 : errno; }

int LeaveNetns() { return setns(g_home_fd, CLONE_NEWNET) == 0 ? 0 : errno; }

Napi::Promise Submit(Napi::Env env, std::unique_ptr<Job> job) {
  auto* p = new Pending{std::move(job), Napi::Promise::Deferred::New(env)};
  Napi::Promise promise = p->deferred.Promise();
  if (g_in_flight++ == 0) napi_ref_threadsafe_function(env, g_tsfn);
  Lane* lane = p->job->LongRunning() ? &g_long : &g_quick;
  bool grow;
  {
    std::lock_guard<std::mutex> lock(g_mu);
    lane->queue.push_back(p);
    // Grow lazily: one more thread when none is idle, up to the lane's limit.
    grow = lane->live < lane->max_threads && lane->idle < static_cast<int>(lane->queue.size());
  }
  if (grow) SpawnWorker(lane);
  g_cv.notify_all();  // one condition variable, two lanes: wake whoever waits on this one
  return promise;
}

static std::string ErrnoName(int err) {
  const char* n = strerrorname_np(err);
  return n ? n : "E" + std::to_string(err);
}

Napi::Error MakeError(Napi::Env env, const Failure& f) {
  std::string msg = f.op;
  if (f.err > 0) msg += ": " + std::string(strerror(f.err));
  if (!f.detail.empty()) msg += ": " + f.detail;
  Napi::Error e = Napi::Error::New(env, msg);
  e.Set("code", f.err > 0 ? ErrnoName(f.err) : std::string("EFAILED"));
  e.Set("errno", Napi::Number::New(env, f.err));
  e.Set("op", f.op);
  e.Set("detail", f.detail);
  e.Set("kind", f.kind);
  return e;
}

void InitExecutor(Napi::Env env, Napi::Object exports) {
  g_home_fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  napi_value name;
  napi_create_string_utf8(env, "mesos-cni-complete", NAPI_AUTO_LENGTH, &name);
  napi_create_threadsafe_function(env, nullptr, nullptr, name, 0, 1, nullptr, nullptr, nullptr,
                                  Complete, &g_tsfn);
  napi_unref_threadsafe_function(env, g_tsfn);
}

}  // namespace mcni
