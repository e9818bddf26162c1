// Network namespaces: create/delete named ones as `ip netns add/del` does (a bind mount of the
// namespace file), open and identify them. Creation switches a worker thread, never the main one.
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <linux/nsfs.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <string>

#include "common/fd.h"
#include "executor.h"
#include "js.h"
#include "registry.h"

namespace mcni {
namespace {

int MkdirP(const std::string& dir) {
  if (dir.empty() || dir == "/") return 0;
  struct stat st;
  if (stat(dir.c_str(), &st) == 0) return S_ISDIR(st.st_mode) ? 0 : ENOTDIR;
  std::string copy = dir;
  if (int e = MkdirP(dirname(copy.data()))) return e;
  if (mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) return errno;
  return 0;
}

// Like iproute2: make the directory a shared mount so namespace mounts propagate to mount
// namespaces cloned later (container runtimes). Best effort.
void MakeShared(const std::string& dir) {
  if (mount("", dir.c_str(), "none", MS_SHARED | MS_REC, nullptr) == 0) return;
  if (errno != EINVAL) return;
  if (mount(dir.c_str(), dir.c_str(), "none", MS_BIND | MS_REC, nullptr) == 0)
    mount("", dir.c_str(), "none", MS_SHARED | MS_REC, nullptr);
}

class CreateJob : public Job {
 public:
  explicit CreateJob(std::string path) : path_(std::move(path)) { failure.kind = "netns"; }
  void Execute() override {
    const std::string op = "create netns " + path_;
    std::string copy = path_;
    std::string dir = dirname(copy.data());
    if (int e = MkdirP(dir)) return failure.Set(e, op);
    MakeShared(dir);
    // The mount point: an empty file, created (and closed) here; the bind mount below fills it.
    if (!UniqueFd(open(path_.c_str(), O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0))) return failure.Set(errno, op);
    if (unshare(CLONE_NEWNET) != 0) {
      failure.Set(errno, op);
      unlink(path_.c_str());
      return;
    }
    int merr = mount("/proc/thread-self/ns/net", path_.c_str(), "none", MS_BIND, nullptr) == 0 ? 0 : errno;
    int leave_err = LeaveNetns();
    if (leave_err != 0) poisoned = true;
    if (merr) {
      failure.Set(merr, op);
      unlink(path_.c_str());
    } else if (poisoned) {
      failure.Set(leave_err, op + ": return to home netns");
    }
  }

 private:
  std::string path_;
};

class DeleteJob : public Job {
 public:
  explicit DeleteJob(std::string path) : path_(std::move(path)) { failure.kind = "netns"; }
  void Execute() override {
    umount2(path_.c_str(), MNT_DETACH);  // EINVAL when not mounted: a half-made one still goes
    if (unlink(path_.c_str()) != 0 && errno != ENOENT) failure.Set(errno, "delete netns " + path_);
  }

 private:
  std::string path_;
};

// Opening a path given by a runtime (CNI_NETNS) must never block or touch a device: a FIFO blocks
// an O_RDONLY open until a writer comes (forever, parking the thread), and opening some devices has
// effects of its own. So the path is opened O_PATH (no open of the file itself), checked to be on
// nsfs and a network namespace, and only then reopened for reading through /proc/thread-self/fd
// (setns and the NS_ ioctls refuse O_PATH descriptors).
constexpr long kNsfsMagic = 0x6e736673;  // NSFS_MAGIC

class OpenJob : public Job {
 public:
  OpenJob(std::string path, bool probe) : path_(std::move(path)), probe_(probe) { failure.kind = "netns"; }
  void Execute() override {
    const std::string op = "open netns " + path_;
    UniqueFd pfd(open(path_.c_str(), O_PATH | O_CLOEXEC));
    if (!pfd) {
      if (!probe_) failure.Set(errno, op);
      return;
    }
    struct statfs sfs;
    bool nsfs = fstatfs(pfd.get(), &sfs) == 0 && sfs.f_type == kNsfsMagic;
    if (!nsfs) {
      if (!probe_) failure.Set(EINVAL, op, "not a network namespace (not an nsfs file)");
      return;
    }
    UniqueFd fd(open(("/proc/thread-self/fd/" + std::to_string(pfd.get())).c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) {
      if (!probe_) failure.Set(errno, op);
      return;
    }
    int type = ioctl(fd.get(), NS_GET_NSTYPE);
    struct stat st;
    fstat(fd.get(), &st);
    dev_ = st.st_dev;
    ino_ = st.st_ino;
    is_net_ = type == CLONE_NEWNET;
    if (!is_net_ && !probe_) failure.Set(EINVAL, op, "not a network namespace");
    if (!probe_ && is_net_) fd_ = std::move(fd);  // kept for Result, which hands it to JS
  }
  Napi::Value Result(Napi::Env env) override {
    if (probe_) return Napi::Boolean::New(env, is_net_);
    Napi::Object o = Napi::Object::New(env);
    o.Set("dev", (double)dev_);
    o.Set("ino", (double)ino_);
    o.Set("fd", fd_.release());  // last, so nothing can throw once JS owns it (Netns.close → netnsClose)
    return o;
  }

 private:
  std::string path_;
  bool probe_;
  UniqueFd fd_;
  bool is_net_ = false;
  dev_t dev_ = 0;
  ino_t ino_ = 0;
};

Napi::Value Create(const Napi::CallbackInfo& info) {
  return Submit(info.Env(), std::make_unique<CreateJob>(info[0].As<Napi::String>().Utf8Value()));
}
Napi::Value Delete(const Napi::CallbackInfo& info) {
  return Submit(info.Env(), std::make_unique<DeleteJob>(info[0].As<Napi::String>().Utf8Value()));
}
// netnsOpen(path): Promise<{fd, dev, ino}>; the caller owns fd.
Napi::Value Open(const Napi::CallbackInfo& info) {
  return Submit(info.Env(), std::make_unique<OpenJob>(info[0].As<Napi::String>().Utf8Value(), false));
}
// netnsIsNetns(path): Promise<boolean>
Napi::Value IsNetns(const Napi::CallbackInfo& info) {
  return Submit(info.Env(), std::make_unique<OpenJob>(info[0].As<Napi::String>().Utf8Value(), true));
}
// netnsHome(): the namespace the addon was loaded in, as netnsOpen returns it (a new fd).
Napi::Value Home(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  UniqueFd fd = DupFd(HomeNetnsFd(env));
  if (!fd) throw MakeError(env, Failure{errno, "dup home netns fd", "", "netns"});
  struct stat st;
  fstat(fd.get(), &st);
  Napi::Object o = Napi::Object::New(env);
  o.Set("dev", (double)st.st_dev);
  o.Set("ino", (double)st.st_ino);
  o.Set("fd", fd.release());  // last: nothing can throw after JS owns it
  return o;
}
// netnsClose(fd): JS gives back an fd netnsOpen/netnsHome handed it. Jobs queued with it hold
// their own duplicates, so closing here never pulls a namespace from under one.
Napi::Value Close(const Napi::CallbackInfo& info) {
  close(info[0].As<Napi::Number>().Int32Value());
  return info.Env().Undefined();
}

ExportFn e1("netnsCreate", Create);
ExportFn e2("netnsDelete", Delete);
ExportFn e3("netnsOpen", Open);
ExportFn e4("netnsIsNetns", IsNetns);
ExportFn e5("netnsHome", Home);
ExportFn e6("netnsClose", Close);

}  // namespace
}  // namespace mcni
