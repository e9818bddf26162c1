// spawnInNetns: run a program with its network namespace set to a given netns, stdin/stdout/stderr
// on pipes, a deadline, and no namespace switch anywhere in this process. A clone(CLONE_VM|
// CLONE_VFORK) child on its own stack does setns + dup2 + execve and nothing else (all
// async-signal-safe, no malloc, no JS); everything it needs is prepared before the clone.
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "common/fd.h"
#include "executor.h"
#include "js.h"
#include "registry.h"

namespace mcni {
namespace {

// Output beyond this is a runaway program, not iptables-save: kill it rather than exhaust memory.
constexpr size_t kMaxOutput = 512u << 20;
constexpr size_t kChildStack = 64u << 10;

// Shared with the child (CLONE_VM): inputs prepared by the parent, the failure it reports back.
// With CLONE_VFORK the parent is suspended until the child execs or exits, so plain fields are
// enough (this is how glibc's posix_spawn reports exec errors too).
struct ChildArgs {
  int netns_fd;
  int in_fd, out_fd, err_fd;  // child ends of the pipes
  const char* file;
  char* const* argv;
  char* const* envp;
  sigset_t empty_mask;
  int err;          // errno of the failed step, 0 if exec succeeded
  const char* step;  // which step failed
};

int ChildMain(void* p) {
  auto* c = static_cast<ChildArgs*>(p);
  // The parent's handlers live in memory we share; a signal must never run one here. Signals are
  // blocked across the clone, so reset every disposition before unblocking (ignored ones too:
  // Node ignores SIGPIPE and an exec'd program should not inherit that).
  struct sigaction dfl;
  memset(&dfl, 0, sizeof dfl);
  dfl.sa_handler = SIG_DFL;
  for (int s = 1; s < NSIG; s++) {
    if (s == SIGKILL || s == SIGSTOP) continue;
    sigaction(s, &dfl, nullptr);  // EINVAL for glibc-internal signals: nothing to reset
  }
  sigprocmask(SIG_SETMASK, &c->empty_mask, nullptr);
  if (c->netns_fd >= 0 && setns(c->netns_fd, CLONE_NEWNET) != 0) {
    c->err = errno;
    c->step = "enter netns";
    _exit(127);
  }
  // The parent keeps every pipe fd >= 3, so these never clobber one another; dup2 clears
  // FD_CLOEXEC on the copies while the originals (all CLOEXEC) vanish at exec.
  if (dup2(c->in_fd, 0) < 0 || dup2(c->out_fd, 1) < 0 || dup2(c->err_fd, 2) < 0) {
    c->err = errno;
    c->step = "dup2";
    _exit(127);
  }
  execve(c->file, c->argv, c->envp);
  c->err = errno;
  c->step = "exec";
  _exit(127);
}

int64_t NowMs() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

// A CLOEXEC pipe whose fds are >= 3 (so the child's dup2 onto 0..2 cannot overwrite one).
struct Pipe {
  UniqueFd r, w;
  int Open() {
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) return errno;
    r.reset(fds[0]);
    w.reset(fds[1]);
    for (UniqueFd* end : {&r, &w}) {
      if (end->get() >= 3) continue;
      UniqueFd moved = DupFd(end->get(), 3);
      if (!moved) return errno;
      *end = std::move(moved);
    }
    return 0;
  }
};

class SpawnJob : public Job {
 public:
  bool LongRunning() const override { return true; }
  SpawnJob(UniqueFd netns, std::string file, std::vector<std::string> argv, std::vector<std::string> env,
           std::string stdin_data, int timeout_ms)
      : netns_(std::move(netns)),
        file_(std::move(file)),
        argv_(std::move(argv)),
        env_(std::move(env)),
        in_(std::move(stdin_data)),
        timeout_ms_(timeout_ms) {
    failure.kind = "spawn";
  }

  // Every pipe end and the pidfd are owned here, so each path out closes them all.
  void Execute() override {
    Pipe in, out, err;
    const std::string op = "spawn " + file_;
    for (Pipe* p : {&in, &out, &err}) {
      if (int e = p->Open()) return failure.Set(e, op + ": pipe");
    }
    // Everything the child touches is built here, before the clone.
    std::vector<char*> argv, envp;
    for (auto& a : argv_) argv.push_back(a.data());
    argv.push_back(nullptr);
    for (auto& e : env_) envp.push_back(e.data());
    envp.push_back(nullptr);
    ChildArgs c{};
    c.netns_fd = netns_.get();
    c.in_fd = in.r.get();
    c.out_fd = out.w.get();
    c.err_fd = err.w.get();
    c.file = file_.c_str();
    c.argv = argv.data();
    c.envp = envp.data();
    sigemptyset(&c.empty_mask);

    void* stack = mmap(nullptr, kChildStack, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    if (stack == MAP_FAILED) return failure.Set(errno, op + ": child stack");
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    // CLONE_PIDFD (Linux >= 5.3): a pollable exit notification, so the deadline and the pipes
    // are watched in one poll() and no SIGCHLD handling is needed.
    int raw_pidfd = -1;
    // CLONE_VFORK: this worker thread sleeps until the child execs or exits; other threads run on.
    pid_t pid = clone(ChildMain, static_cast<char*>(stack) + kChildStack,
                      CLONE_VM | CLONE_VFORK | CLONE_PIDFD | SIGCHLD, &c, &raw_pidfd);
    int clone_err = errno;
    UniqueFd pidfd(raw_pidfd);
    pthread_sigmask(SIG_SETMASK, &old, nullptr);
    munmap(stack, kChildStack);
    if (pid < 0) return failure.Set(clone_err, op + ": clone");

    // The child's ends: only its copies stay open, so EOF and EPIPE come when it is done.
    in.r.reset();
    out.w.reset();
    err.w.reset();
    if (c.err != 0) {
      int st;
      while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
      }
      std::string what = std::string(c.step) == "exec" ? "exec " + file_ : op + ": " + c.step;
      return failure.Set(c.err, what);
    }
    Pump(pid, pidfd.get(), in.w, out.r, err.r, op);
  }

  Napi::Value Result(Napi::Env env) override {
    Napi::Object o = Napi::Object::New(env);
    o.Set("status", status_);
    o.Set("signal", signal_);
    o.Set("stdout", ToBuffer(env, out_.data(), out_.size()));
    o.Set("stderr", ToBuffer(env, err_.data(), err_.size()));
    o.Set("timedOut", timed_out_);
    return o;
  }

 private:
  // Feed stdin and drain both outputs concurrently (a child blocked writing stderr while we
  // block writing its stdin would deadlock), until the child exits or the deadline passes.
  // A drained or refused end is closed (reset) as soon as it is done with.
  void Pump(pid_t pid, int pidfd, UniqueFd& in_w, UniqueFd& out_r, UniqueFd& err_r, const std::string& op) {
    for (UniqueFd* fd : {&in_w, &out_r, &err_r}) fcntl(fd->get(), F_SETFL, fcntl(fd->get(), F_GETFL) | O_NONBLOCK);
    size_t in_off = 0;
    if (in_.empty()) in_w.reset();
    const int64_t deadline = timeout_ms_ > 0 ? NowMs() + timeout_ms_ : 0;
    bool exited = false, killed = false;
    while (!exited) {
      struct pollfd pf[4];
      int n = 0;
      pf[n++] = {pidfd, POLLIN, 0};
      int i_in = -1, i_out = -1, i_err = -1;
      if (in_w) pf[i_in = n++] = {in_w.get(), POLLOUT, 0};
      if (out_r) pf[i_out = n++] = {out_r.get(), POLLIN, 0};
      if (err_r) pf[i_err = n++] = {err_r.get(), POLLIN, 0};
      int wait_ms = -1;
      if (deadline && !killed) {
        int64_t left = deadline - NowMs();
        wait_ms = left > 0 ? int(left) : 0;
      }
      int r = poll(pf, n, wait_ms);
      if (r < 0 && errno != EINTR) {
        failure.Set(errno, op + ": poll");
        kill(pid, SIGKILL);
        break;  // reaped below; SIGKILL cannot be ignored
      }
      if (r == 0 && !killed) {
        timed_out_ = true;
        killed = true;
        kill(pid, SIGKILL);  // not yet reaped, so the pid cannot have been reused
      }
      if (r <= 0) continue;
      if (i_in >= 0 && pf[i_in].revents) {
        ssize_t w = write(in_w.get(), in_.data() + in_off, in_.size() - in_off);
        if (w > 0) in_off += size_t(w);
        // EPIPE: the child closed stdin without reading it all; that is its business.
        if ((w < 0 && errno != EAGAIN && errno != EINTR) || in_off == in_.size()) in_w.reset();
      }
      if (i_out >= 0 && pf[i_out].revents) Drain(out_r, out_, pid, killed);
      if (i_err >= 0 && pf[i_err].revents) Drain(err_r, err_, pid, killed);
      if (pf[0].revents) exited = true;
    }
    // Whatever the child wrote before exiting is still buffered in the pipes; a grandchild that
    // inherited them and lives on must not hold us past the child's own exit.
    if (out_r) Drain(out_r, out_, pid, killed);
    if (err_r) Drain(err_r, err_, pid, killed);
    int st = 0;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
    }
    if (WIFEXITED(st)) status_ = WEXITSTATUS(st);
    if (WIFSIGNALED(st)) signal_ = WTERMSIG(st);
    if (too_much_ && failure.err == 0) failure.Set(EFBIG, op + ": output exceeds " + std::to_string(kMaxOutput >> 20) + " MiB");
  }

  // Read what is available now; close on EOF or error.
  void Drain(UniqueFd& fd, std::string& into, pid_t pid, bool& killed) {
    char buf[65536];
    for (;;) {
      ssize_t r = read(fd.get(), buf, sizeof buf);
      if (r > 0) {
        if (into.size() + size_t(r) > kMaxOutput) {
          too_much_ = true;
          if (!killed) kill(pid, SIGKILL);
          killed = true;
          fd.reset();
          return;
        }
        into.append(buf, size_t(r));
        continue;
      }
      if (r < 0 && errno == EINTR) continue;
      if (r < 0 && errno == EAGAIN) return;
      fd.reset();  // EOF or a real error
      return;
    }
  }

  UniqueFd netns_;  // empty: stay in ours
  std::string file_;
  std::vector<std::string> argv_, env_;
  std::string in_;
  int timeout_ms_;
  std::string out_, err_;
  int status_ = -1, signal_ = 0;
  bool timed_out_ = false, too_much_ = false;
};

std::vector<std::string> Strings(const Napi::Object& o, const char* k) {
  std::vector<std::string> v;
  if (!Has(o, k)) return v;
  Napi::Array a = o.Get(k).As<Napi::Array>();
  for (uint32_t i = 0; i < a.Length(); i++) v.push_back(a.Get(i).As<Napi::String>().Utf8Value());
  return v;
}

// spawnInNetns({netnsFd, file, argv, env, stdin, timeoutMs}): Promise<{status, signal, stdout,
// stderr, timedOut}>. argv includes argv[0]; env is "K=V" strings; netnsFd -1 = stay in ours.
Napi::Value Spawn(const Napi::CallbackInfo& info) {
  Napi::Object req = info[0].As<Napi::Object>();
  std::vector<uint8_t> in = Bytes(req, "stdin");
  std::string file = Str(req, "file");
  UniqueFd netns = DupNetnsFd(info.Env(), I32(req, "netnsFd", -1), "spawn " + file, "spawn");
  return Submit(info.Env(), std::make_unique<SpawnJob>(std::move(netns), std::move(file), Strings(req, "argv"),
                                                       Strings(req, "env"), std::string(in.begin(), in.end()),
                                                       I32(req, "timeoutMs", 0)));
}

ExportFn e1("spawnInNetns", Spawn);

}  // namespace
}  // namespace mcni
