// Reading a directory of small files in one job (host-local's leases: one file per attached
// container, a few bytes each), instead of an open, a read and a close per file from Node.
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "common/fd.h"
#include "executor.h"
#include "registry.h"

namespace mcni {
namespace {

class ReadDirJob : public Job {
 public:
  ReadDirJob(std::string dir, size_t max, std::optional<std::string> containing)
      : dir_(std::move(dir)), max_(max), containing_(std::move(containing)) {
    failure.kind = "native";
  }
  void Execute() override {
    UniqueDir d(opendir(dir_.c_str()));
    if (!d) return failure.Set(errno, "read directory " + dir_);
    int dfd = dirfd(d.get());
    std::vector<char> buf(4096);
    while (dirent* e = readdir(d.get())) {
      if (e->d_type != DT_REG && e->d_type != DT_UNKNOWN) continue;
      // Gone meanwhile (released), or not a regular file: skipped, as a lister would.
      UniqueFd fd(openat(dfd, e->d_name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK));
      if (!fd) continue;
      // Three calls per file where the directory says it is a regular file (the open, one read,
      // the close), five otherwise: 500 leases in 2.3-2.8 ms instead of 2.8-3.2 here.
      bool regular = e->d_type == DT_REG;
      struct stat st;
      if (!regular && (fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode))) continue;
      // The whole file, up to max_ bytes: a reader that stops short can miss what it looks for
      // (host-local's owner ID after 4 KiB) and answer as if it were not there. A regular file's
      // read comes back short only at its end (ext4, xfs, tmpfs), so that one ends it.
      File f{e->d_name, std::string(), false};
      ssize_t n = 0;
      while ((n = read(fd.get(), buf.data(), buf.size())) > 0) {
        size_t room = max_ - f.text.size();
        f.text.append(buf.data(), std::min(room, static_cast<size_t>(n)));
        if (static_cast<size_t>(n) > room) {
          f.truncated = true;
          break;
        }
        if (regular && static_cast<size_t>(n) < buf.size()) break;
      }
      if (n < 0) continue;
      if (containing_ && f.name[0] != '.' && f.text.find(*containing_) == std::string::npos) continue;
      files_.push_back(std::move(f));
    }
  }
  Napi::Value Result(Napi::Env env) override {
    Napi::Array out = Napi::Array::New(env, files_.size());
    for (size_t i = 0; i < files_.size(); ++i) {
      Napi::Object o = Napi::Object::New(env);
      o.Set("name", files_[i].name);
      o.Set("text", files_[i].text);
      if (files_[i].truncated) o.Set("truncated", true);
      out.Set(i, o);
    }
    return out;
  }

 private:
  std::string dir_;
  size_t max_;
  std::optional<std::string> containing_;
  struct File {
    std::string name;
    std::string text;
    bool truncated;
  };
  std::vector<File> files_;
};

// readSmallFiles(dir, maxBytes, containing?): Promise<{name, text, truncated?}[]> — every regular
// file (symlinks and other types skipped), whole, as UTF-8; one longer than maxBytes is cut there
// and marked. With `containing`, only the files whose bytes contain it, and those named with a
// leading dot (fs/atomic's temporaries, which the caller sweeps): host-local looks for one
// container's leases among 500 without 500 objects made on the JS thread and parsed there.
Napi::Value ReadSmallFiles(const Napi::CallbackInfo& info) {
  uint32_t max = info[1].As<Napi::Number>().Uint32Value();
  if (max == 0 || max > (1u << 20)) throw Napi::RangeError::New(info.Env(), "readSmallFiles: maxBytes must be 1..1048576");
  std::optional<std::string> containing;
  if (info.Length() > 2 && !info[2].IsUndefined()) {
    if (!info[2].IsString()) throw Napi::TypeError::New(info.Env(), "readSmallFiles: containing must be a string");
    containing = info[2].As<Napi::String>().Utf8Value();
  }
  return Submit(info.Env(), std::make_unique<ReadDirJob>(info[0].As<Napi::String>().Utf8Value(), max, std::move(containing)));
}

ExportFn e1("readSmallFiles", ReadSmallFiles);

}  // namespace
}  // namespace mcni
