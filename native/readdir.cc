// Reading a directory of small files in one job (host-local's leases: one file per attached
// container, a few bytes each). From Node every file is an open, a read and a close through the
// thread pool or the main thread: 500 files took 4-7.5 ms in a fresh process; here ~1 ms.
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include <string>
#include <utility>
#include <vector>

#include "executor.h"
#include "registry.h"

namespace mcni {
namespace {

class ReadDirJob : public Job {
 public:
  ReadDirJob(std::string dir, size_t max) : dir_(std::move(dir)), max_(max) { failure.kind = "native"; }
  void Execute() override {
    DIR* d = opendir(dir_.c_str());
    if (!d) return failure.Set(errno, "read directory " + dir_);
    int dfd = dirfd(d);
    std::vector<char> buf(max_);
    while (dirent* e = readdir(d)) {
      if (e->d_type != DT_REG && e->d_type != DT_UNKNOWN) continue;
      // Gone meanwhile (released), or not a regular file: skipped, as a lister would.
      int fd = openat(dfd, e->d_name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
      if (fd < 0) continue;
      ssize_t n = read(fd, buf.data(), buf.size());
      close(fd);
      if (n < 0) continue;
      files_.emplace_back(e->d_name, std::string(buf.data(), static_cast<size_t>(n)));
    }
    closedir(d);
  }
  Napi::Value Result(Napi::Env env) override {
    Napi::Array out = Napi::Array::New(env, files_.size());
    for (size_t i = 0; i < files_.size(); ++i) {
      Napi::Object o = Napi::Object::New(env);
      o.Set("name", files_[i].first);
      o.Set("text", files_[i].second);
      out.Set(i, o);
    }
    return out;
  }

 private:
  std::string dir_;
  size_t max_;
  std::vector<std::pair<std::string, std::string>> files_;
};

// readSmallFiles(dir, maxBytes): Promise<{name, text}[]> — every regular file (symlinks and
// other types skipped), at most maxBytes of each, as UTF-8.
Napi::Value ReadSmallFiles(const Napi::CallbackInfo& info) {
  uint32_t max = info[1].As<Napi::Number>().Uint32Value();
  if (max == 0 || max > (1u << 20)) throw Napi::RangeError::New(info.Env(), "readSmallFiles: maxBytes must be 1..1048576");
  return Submit(info.Env(), std::make_unique<ReadDirJob>(info[0].As<Napi::String>().Utf8Value(), max));
}

ExportFn e1("readSmallFiles", ReadSmallFiles);

}  // namespace
}  // namespace mcni
