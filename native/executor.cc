// Worker pool + completion delivery for every asynchronous native call, one per addon instance
// (the main thread's, and one per worker_thread that loads the addon).
#include "executor.h"

#include <fcntl.h>
#include <sched.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <condition_variable>
#include <deque>
#include <list>
#include <mutex>
#include <system_error>
#include <thread>

namespace mcni {
namespace {

struct Pending {
  std::unique_ptr<Job> job;
  Napi::Promise::Deferred deferred;
};

// Two lanes of lazily started threads: quick jobs (netlink, netns, sysctl) and jobs that wait
// on a child process. A child of a deleting iptables-restore lives ~30 ms (an RCU grace period at
// its socket's close); 32 of them at once is more than 2 cores start, so the lane is never the
// limit, while a thread costs ~8 MiB of address space and a few KiB of memory while it lives.
struct Lane {
  explicit Lane(int max) : max_threads(max) {}
  const int max_threads;
  std::deque<Pending*> queue;
  int live = 0;
  int idle = 0;  // threads waiting for a job
  // Its idle threads wait here, and a new job wakes one of them (with one condition variable for
  // everything, each job woke every idle thread of both lanes, each a context switch on 2 cores).
  std::condition_variable cv;
};

using Threads = std::list<std::thread>;

// Everything one addon instance owns. Its env's instance data: created at load, stopped by the
// env's cleanup hook (Stop), deleted by the instance-data finalizer, which node runs only after
// the threadsafe function (and with it every undelivered completion) is gone.
struct Executor {
  std::mutex mu;
  std::condition_variable stopped;  // Stop waits here for `running` to empty
  Lane quick{4};
  Lane slow{32};
  bool stopping = false;
  Threads running;  // workers in their loop; each holds the iterator to its own entry
  Threads retired;  // workers that left it, joined by the next Submit or by Stop
  UniqueFd home;
  napi_threadsafe_function tsfn = nullptr;
  size_t in_flight = 0;  // main thread only
};

// The instance a worker thread serves (EnterNetns/LeaveNetns run inside jobs and need its home).
thread_local Executor* t_exec = nullptr;

void Replenish(Executor* ex, Lane* lane);

// The promise settled with the job's outcome, on its env's JS thread.
void Settle(Napi::Env env, Napi::Promise::Deferred& deferred, Job& job) {
  if (job.failure.err != 0) {
    deferred.Reject(MakeError(env, job.failure).Value());
    return;
  }
  Napi::Value v = job.Result(env);
  if (env.IsExceptionPending()) {
    deferred.Reject(env.GetAndClearPendingException().Value());
  } else {
    deferred.Resolve(v);
  }
}

void Complete(napi_env env, napi_value, void* context, void* data) {
  std::unique_ptr<Pending> p(static_cast<Pending*>(data));
  // No env: the instance is being torn down and nobody waits for the answer; dropping the job
  // closes whatever it owns.
  if (env == nullptr) return;
  auto* ex = static_cast<Executor*>(context);
  Napi::Env e(env);
  try {
    Napi::HandleScope scope(e);
    Settle(e, p->deferred, *p->job);
  } catch (const Napi::Error&) {
    // Only when the env can no longer run JS (it is stopping); an exception must not leave a
    // C callback.
  }
  if (p->job->poisoned) Replenish(ex, p->job->LongRunning() ? &ex->slow : &ex->quick);
  if (--ex->in_flight == 0) napi_unref_threadsafe_function(env, ex->tsfn);
}

// 0 when this thread is in the home namespace: already (a thread inherits its creator's, and the
// main thread never switches), or after setns. Checked first because setns needs CAP_SYS_ADMIN
// even to enter the namespace a thread is in, and jobs that never switch work without it.
int PinHome(Executor* ex) {
  struct stat here, home;
  if (stat("/proc/thread-self/ns/net", &here) == 0 && fstat(ex->home.get(), &home) == 0 &&
      here.st_dev == home.st_dev && here.st_ino == home.st_ino) {
    return 0;
  }
  return setns(ex->home.get(), CLONE_NEWNET) == 0 ? 0 : errno;
}

// Under ex->mu: this worker leaves `running` for `retired` and wakes Stop, which waits for
// `running` to empty.
void Retire(Executor* ex, Lane* lane, Threads::iterator self) {
  --lane->live;
  ex->retired.splice(ex->retired.end(), ex->running, self);
  ex->stopped.notify_all();
}

int StartWorker(Executor* ex, Lane* lane);

void WorkerLoop(Executor* ex, Lane* lane, Threads::iterator self) {
  t_exec = ex;
  // SCHED_BATCH: a worker woken by Submit does not preempt the thread that woke it (the main
  // thread, which goes on running JS); it runs on an idle CPU, or once the main thread blocks or
  // its slice ends. As SCHED_OTHER, a worker placed on the main thread's CPU could take it over
  // for its whole kernel call: Submit's synchronous part summed over a daemon ADD went from a
  // 1.09 to a 0.78 ms median on 2 cores. Children spawned from a worker start as SCHED_OTHER.
  sched_param sp{};
  sched_setscheduler(0, SCHED_BATCH | SCHED_RESET_ON_FORK, &sp);  // best effort: SCHED_OTHER else
  // Workers are started by the main thread (Submit, Replenish), so this is a check. Should it
  // fail, every job this thread takes fails with the reason, rather than running in the wrong
  // namespace or (as a worker that exited here once did) leaving its lane without a thread and its
  // jobs waiting forever.
  int home_err = PinHome(ex);
  for (;;) {
    Pending* p;
    {
      std::unique_lock<std::mutex> lock(ex->mu);
      ++lane->idle;
      lane->cv.wait(lock, [&] { return ex->stopping || !lane->queue.empty(); });
      --lane->idle;
      if (ex->stopping) return Retire(ex, lane, self);
      p = lane->queue.front();
      lane->queue.pop_front();
    }
    if (home_err != 0) home_err = PinHome(ex);
    if (home_err != 0) {
      p->job->failure = Failure{home_err, "worker thread: enter the addon's home netns", "", "netns"};
    } else {
      p->job->Execute();
    }
    // This thread may still be in a foreign namespace: it never runs another job. Its replacement
    // is started by Complete, on the main thread: one started here would inherit the namespace
    // this thread could not leave.
    bool poisoned = p->job->poisoned;
    if (poisoned) {
      std::lock_guard<std::mutex> lock(ex->mu);
      Retire(ex, lane, self);
    }
    // Stop joins this thread before the threadsafe function can be closed, so the call is safe;
    // it fails only if the env closed it some other way, and then nobody waits for the answer.
    if (napi_call_threadsafe_function(ex->tsfn, p, napi_tsfn_blocking) != napi_ok) delete p;
    if (poisoned) return;
  }
}

// Under ex->mu. Returns 0 or the errno of the failed thread creation.
int StartWorker(Executor* ex, Lane* lane) {
  auto self = ex->running.emplace(ex->running.end());
  try {
    // The worker takes ex->mu first thing, so it sees `self` filled in.
    *self = std::thread(WorkerLoop, ex, lane, self);
  } catch (const std::system_error& e) {
    ex->running.erase(self);
    return e.code().value() != 0 ? e.code().value() : EAGAIN;
  }
  ++lane->live;
  return 0;
}

// Main thread, after a worker retired: start another if its lane has work and no idle thread
// (a failure leaves that to the next Submit).
void Replenish(Executor* ex, Lane* lane) {
  std::lock_guard<std::mutex> lock(ex->mu);
  if (!ex->stopping && lane->live < lane->max_threads && lane->idle < static_cast<int>(lane->queue.size())) StartWorker(ex, lane);
}

// The env's cleanup hook: wake every worker, wait for each to finish the job it is running (each
// kind is bounded: netlink replies by a 30 s receive timeout, flock and spawn by their deadlines),
// join them all, and drop the jobs nobody started. Registered after the threadsafe function was
// created, so it runs before that function's own cleanup closes it (hooks run newest first).
void Stop(void* arg) {
  auto* ex = static_cast<Executor*>(arg);
  {
    std::unique_lock<std::mutex> lock(ex->mu);
    ex->stopping = true;
    ex->quick.cv.notify_all();
    ex->slow.cv.notify_all();
    ex->stopped.wait(lock, [ex] { return ex->running.empty(); });
  }
  for (std::thread& t : ex->retired) t.join();
  ex->retired.clear();
  for (Lane* lane : {&ex->quick, &ex->slow}) {
    for (Pending* p : lane->queue) delete p;
    lane->queue.clear();
  }
}

Executor* Instance(Napi::Env env) { return env.GetInstanceData<Executor>(); }

}  // namespace

Napi::Promise RunHere(Napi::Env env, std::unique_ptr<Job> job) {
  auto deferred = Napi::Promise::Deferred::New(env);
  job->Execute();
  Settle(env, deferred, *job);
  return deferred.Promise();
}

int HomeNetnsFd(Napi::Env env) { return Instance(env)->home.get(); }

int EnterNetns(int fd) { return setns(fd, CLONE_NEWNET) == 0 ? 0 : errno; }

int LeaveNetns() { return setns(t_exec->home.get(), CLONE_NEWNET) == 0 ? 0 : errno; }

UniqueFd DupNetnsFd(Napi::Env env, int fd, const std::string& op, const char* kind) {
  if (fd == -1) return UniqueFd();
  UniqueFd own = DupFd(fd);
  if (!own) throw MakeError(env, Failure{errno, op + ": netns fd " + std::to_string(fd), "", kind});
  return own;
}

Napi::Promise Submit(Napi::Env env, std::unique_ptr<Job> job) {
  Executor* ex = Instance(env);
  auto* p = new Pending{std::move(job), Napi::Promise::Deferred::New(env)};
  Napi::Promise promise = p->deferred.Promise();
  Lane* lane = p->job->LongRunning() ? &ex->slow : &ex->quick;
  int start_err = 0;
  Threads done;
  {
    std::lock_guard<std::mutex> lock(ex->mu);
    lane->queue.push_back(p);
    // Grow lazily: one more thread when none is idle, up to the lane's limit.
    if (lane->live < lane->max_threads && lane->idle < static_cast<int>(lane->queue.size())) {
      start_err = StartWorker(ex, lane);
      // A lane with threads will get to the job; one without must not keep it forever.
      if (start_err != 0 && lane->live == 0) {
        lane->queue.pop_back();
      } else {
        start_err = 0;
      }
    }
    done.swap(ex->retired);
  }
  for (std::thread& t : done) t.join();  // retired workers have left their loop: returns at once
  if (start_err != 0) {
    std::unique_ptr<Pending> gone(p);
    gone->deferred.Reject(MakeError(env, Failure{start_err, "start a worker thread"}).Value());
    return promise;
  }
  if (ex->in_flight++ == 0) napi_ref_threadsafe_function(env, ex->tsfn);
  lane->cv.notify_one();  // one job, one idle thread of its lane (a new thread needs no wake-up)
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

static void Check(Napi::Env env, napi_status status, const char* what) {
  if (status != napi_ok) throw MakeError(env, Failure{-1, std::string("mesos-cni addon: ") + what});
}

void InitExecutor(Napi::Env env) {
  auto ex = std::make_unique<Executor>();
  // Workers pin themselves to this namespace and return to it after every switch. Unchecked, a
  // failure here once made every worker exit at start and every job wait forever.
  ex->home = UniqueFd(open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC));
  if (!ex->home) throw MakeError(env, Failure{errno, "mesos-cni addon: open home netns /proc/thread-self/ns/net", "", "netns"});
  napi_value name;
  Check(env, napi_create_string_utf8(env, "mesos-cni-complete", NAPI_AUTO_LENGTH, &name), "completion name");
  Check(env, napi_create_threadsafe_function(env, nullptr, nullptr, name, 0, 1, nullptr, nullptr, ex.get(), Complete, &ex->tsfn),
        "create the completion channel");
  // Unreferenced while idle: the addon alone must not keep a process (or a worker) alive.
  Check(env, napi_unref_threadsafe_function(env, ex->tsfn), "unref the completion channel");
  Check(env, napi_set_instance_data(env, ex.get(), [](napi_env, void* data, void*) { delete static_cast<Executor*>(data); }, nullptr),
        "set instance data");
  Executor* owned = ex.release();
  Check(env, napi_add_env_cleanup_hook(env, Stop, owned), "add the cleanup hook");
}

}  // namespace mcni
