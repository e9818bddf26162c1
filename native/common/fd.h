// Owned file descriptors and directory streams: each is closed exactly once, by whoever holds it
// last, on every path out of a function (early returns and exceptions included).
#pragma once
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

namespace mcni {

// Move-only owner of one fd (-1: none). `release()` hands the number on (to JS, which then closes
// it through a binding call); everything else closes on destruction.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) noexcept : fd_(fd) {}
  UniqueFd(UniqueFd&& o) noexcept : fd_(o.release()) {}
  UniqueFd& operator=(UniqueFd&& o) noexcept {
    if (this != &o) reset(o.release());
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd() { reset(); }

  int get() const noexcept { return fd_; }
  explicit operator bool() const noexcept { return fd_ >= 0; }
  int release() noexcept {
    int fd = fd_;
    fd_ = -1;
    return fd;
  }
  // Close the current fd (if any) and own `fd`. errno is kept: callers read it after a failed
  // call whose half-made results are dropped on the way out.
  void reset(int fd = -1) noexcept {
    if (fd_ >= 0) {
      int saved = errno;
      close(fd_);  // Linux frees the number even when close reports EINTR/EIO: never retry
      errno = saved;
    }
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

// A close-on-exec duplicate of `fd`, or an empty UniqueFd with errno set.
inline UniqueFd DupFd(int fd, int min_fd = 0) { return UniqueFd(fcntl(fd, F_DUPFD_CLOEXEC, min_fd)); }

// Move-only owner of a DIR* (closedir also closes the fd behind dirfd()).
class UniqueDir {
 public:
  explicit UniqueDir(DIR* d = nullptr) noexcept : d_(d) {}
  UniqueDir(UniqueDir&& o) noexcept : d_(o.d_) { o.d_ = nullptr; }
  UniqueDir& operator=(UniqueDir&& o) noexcept {
    if (this != &o) {
      reset();
      d_ = o.d_;
      o.d_ = nullptr;
    }
    return *this;
  }
  UniqueDir(const UniqueDir&) = delete;
  UniqueDir& operator=(const UniqueDir&) = delete;
  ~UniqueDir() { reset(); }

  DIR* get() const noexcept { return d_; }
  explicit operator bool() const noexcept { return d_ != nullptr; }
  void reset() noexcept {
    if (d_ != nullptr) {
      int saved = errno;
      closedir(d_);
      errno = saved;
    }
    d_ = nullptr;
  }

 private:
  DIR* d_;
};

}  // namespace mcni
