/* mesos-cni launcher: installed under a plugin's name (`mesos-cni install --launcher`), it hands the
 * CNI call (environment + stdin) to the resident `mesos-cni daemon` over its unix socket and prints
 * the daemon's reply, so the runtime pays for a small C start-up instead of Node's. When no daemon
 * takes the call it execs the plain Node entry of the plugin, so the plugin always works.
 *
 * Install writes a trailer after the ELF image (the loader ignores it):
 * node=, entry=, socket= lines, then "mesos-cni-plugin: <type>" (what lib/cni/invoke recognises),
 * then the trailer's length (u32 LE) and the magic "MCNILNC1" as the file's last 12 bytes.
 *
 * Protocol: lib/daemon/protocol.ts. The launcher falls back only BEFORE it sends the go byte;
 * after that the daemon owns the call, and a daemon that dies or stalls yields CNI error 11 (try
 * again later), never a second run. Stdout carries the one CNI document and nothing else. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define MAGIC "MCNILNC1"
#define MAX_TRAILER 65536
#define MAX_FRAME (16u * 1024 * 1024)

struct buf {
  char *p;
  size_t n, cap;
};

static struct {
  char type[256], node[4096], entry[4096], socket[108];
} cfg;
static int verbose;

static void put(struct buf *b, const void *p, size_t n) {
  if (b->n + n > b->cap) {
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->n + n) cap *= 2;
    char *q = realloc(b->p, cap);
    if (!q) abort();
    b->p = q;
    b->cap = cap;
  }
  memcpy(b->p + b->n, p, n);
  b->n += n;
}

/* Log lines go to stderr, and only when asked for (MESOS_CNI_LOG=info|debug, as for the plugins). */
static void say(const char *msg, const char *detail) {
  if (verbose) fprintf(stderr, "{\"level\":\"info\",\"plugin\":\"%s\",\"msg\":\"mesos-cni launcher: %s\",\"detail\":\"%s\"}\n", cfg.type, msg, detail ? detail : "");
}

static int read_trailer(void) {
  int fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  struct stat st;
  unsigned char tail[12];
  static char text[MAX_TRAILER + 1];
  uint32_t len;
  int ok = fstat(fd, &st) == 0 && st.st_size > 12 && pread(fd, tail, 12, st.st_size - 12) == 12 && memcmp(tail + 4, MAGIC, 8) == 0;
  if (ok) {
    len = tail[0] | tail[1] << 8 | tail[2] << 16 | (uint32_t)tail[3] << 24;
    ok = len <= MAX_TRAILER && (off_t)len + 12 <= st.st_size && pread(fd, text, len, st.st_size - 12 - len) == (ssize_t)len;
  }
  close(fd);
  if (!ok) return -1;
  text[len] = 0;
  for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
    const char *v;
    if (!strncmp(line, "mesos-cni-plugin: ", 18)) snprintf(cfg.type, sizeof cfg.type, "%s", line + 18);
    else if ((v = strchr(line, '=')) && !strncmp(line, "node=", 5)) snprintf(cfg.node, sizeof cfg.node, "%s", v + 1);
    else if (v && !strncmp(line, "entry=", 6)) snprintf(cfg.entry, sizeof cfg.entry, "%s", v + 1);
    else if (v && !strncmp(line, "socket=", 7)) snprintf(cfg.socket, sizeof cfg.socket, "%s", v + 1);
  }
  return cfg.type[0] && cfg.node[0] && cfg.entry[0] ? 0 : -1;
}

/* 0, or the errno of a stdin that cannot be read (a directory: EISDIR). */
static int read_stdin(struct buf *in) {
  char chunk[65536];
  for (;;) {
    ssize_t n = read(0, chunk, sizeof chunk);
    if (n > 0) put(in, chunk, (size_t)n);
    else if (n < 0 && errno == EINTR) continue;
    else if (n < 0 && errno != EBADF) return errno;
    else return 0; /* EOF, or no stdin at all (EBADF): the plugin sees the same */
  }
}

/* The top-level "cniVersion" of the config (for our own error documents), like skel's versionOf. */
static void config_version(const struct buf *in, char *out, size_t cap) {
  int depth = 0;
  snprintf(out, cap, "0.1.0");
  for (size_t i = 0; i < in->n; i++) {
    char c = in->p[i];
    if (c == '{' || c == '[') depth++;
    else if (c == '}' || c == ']') depth--;
    else if (c == '"') {
      size_t start = ++i;
      while (i < in->n && in->p[i] != '"') i += in->p[i] == '\\' ? 2 : 1;
      if (i >= in->n) return;
      if (depth != 1 || i - start != 10 || memcmp(in->p + start, "cniVersion", 10)) continue;
      size_t j = i + 1;
      while (j < in->n && strchr(" \t\r\n:", in->p[j])) j++;
      if (j >= in->n || in->p[j] != '"') continue;
      size_t v = ++j;
      while (j < in->n && in->p[j] != '"' && in->p[j] != '\\') j++;
      if (j < in->n && in->p[j] == '"' && j > v && j - v < cap) {
        memcpy(out, in->p + v, j - v);
        out[j - v] = 0;
      }
      return;
    }
  }
}

static void json_str(struct buf *b, const char *s) {
  put(b, "\"", 1);
  for (; *s; s++) {
    char esc[8];
    if (*s == '"' || *s == '\\') put(b, "\\", 1), put(b, s, 1);
    else if ((unsigned char)*s < 0x20) put(b, esc, (size_t)snprintf(esc, sizeof esc, "\\u%04x", *s));
    else put(b, s, 1);
  }
  put(b, "\"", 1);
}

/* Print a CNI error document exactly as lib/cni/skel would and exit 1. */
static void cni_error(const struct buf *in, int code, const char *msg, const char *details) {
  char version[64];
  struct buf b = {0};
  config_version(in, version, sizeof version);
  put(&b, "{\"cniVersion\":", 14);
  json_str(&b, version);
  char num[32];
  put(&b, num, (size_t)snprintf(num, sizeof num, ",\"code\":%d,\"msg\":", code));
  json_str(&b, msg);
  if (details && *details) put(&b, ",\"details\":", 11), json_str(&b, details);
  put(&b, "}\n", 2);
  if (write(1, b.p, b.n) < 0) _exit(1);
  exit(1);
}

/* Run the plugin's plain Node entry in this process; `in` is the stdin already read, if any. */
static void fallback(const struct buf *in, int stdin_read, const char *why) {
  say("running the node entry", why);
  if (stdin_read) {
    int fd = memfd_create("mesos-cni-stdin", 0);
    if (fd < 0 || (in->n && write(fd, in->p, in->n) != (ssize_t)in->n) || lseek(fd, 0, SEEK_SET) != 0 || dup2(fd, 0) < 0)
      cni_error(in, 11, "mesos-cni launcher: cannot hand stdin to the node entry", strerror(errno));
    if (fd != 0) close(fd);
  }
  char *argv[] = {cfg.node, cfg.entry, NULL};
  execve(cfg.node, argv, environ);
  struct buf none = {0};
  char details[4200];
  snprintf(details, sizeof details, "exec %s: %s", cfg.node, strerror(errno));
  cni_error(stdin_read ? in : &none, 11, "mesos-cni launcher: cannot run the plugin", details);
}

static long now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1000L + t.tv_nsec / 1000000;
}

/* Read exactly n bytes before the deadline; 0 on success, -1 on EOF/error/timeout. */
static int read_full(int fd, void *p, size_t n, long deadline) {
  size_t got = 0;
  while (got < n) {
    long left = deadline - now_ms();
    struct pollfd pfd = {fd, POLLIN, 0};
    if (left <= 0) return errno = ETIMEDOUT, -1;
    int r = poll(&pfd, 1, (int)(left > 1000000 ? 1000000 : left));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return errno = r ? errno : ETIMEDOUT, -1;
    ssize_t k = read(fd, (char *)p + got, n - got);
    if (k < 0 && errno == EINTR) continue;
    if (k <= 0) return errno = k ? errno : ECONNRESET, -1;
    got += (size_t)k;
  }
  return 0;
}

static int send_all(int fd, const void *p, size_t n) {
  for (size_t off = 0; off < n;) {
    ssize_t k = send(fd, (const char *)p + off, n - off, MSG_NOSIGNAL);
    if (k < 0 && errno == EINTR) continue;
    if (k < 0) return -1;
    off += (size_t)k;
  }
  return 0;
}

static long env_ms(const char *name, long dflt) {
  const char *v = getenv(name);
  long n = v ? strtol(v, NULL, 10) : 0;
  return n > 0 ? n : dflt;
}

int main(void) {
  const char *lvl = getenv("MESOS_CNI_LOG");
  verbose = lvl && (!strcmp(lvl, "info") || !strcmp(lvl, "debug"));
  struct buf in = {0};
  if (read_trailer() != 0) {
    (void)read_stdin(&in);
    cni_error(&in, 11, "mesos-cni launcher: no install trailer in this executable", "reinstall with: mesos-cni install --launcher");
  }
  const char *sock_path = getenv("MESOS_CNI_SOCKET");
  if (!sock_path || !*sock_path) sock_path = cfg.socket;
  const char *mode = getenv("MESOS_CNI_LAUNCHER");
  if (mode && !strcmp(mode, "standalone")) fallback(&in, 0, "MESOS_CNI_LAUNCHER=standalone");
  if (!*sock_path || strlen(sock_path) >= sizeof(((struct sockaddr_un *)0)->sun_path)) fallback(&in, 0, "no usable socket path");

  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  strcpy(addr.sun_path, sock_path);
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0) fallback(&in, 0, strerror(errno));
  /* Only a daemon running as root (or as us) may see the call: its env and config can hold secrets. */
  struct ucred cred;
  socklen_t clen = sizeof cred;
  if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) != 0 || (cred.uid != 0 && cred.uid != geteuid())) {
    close(fd);
    fallback(&in, 0, "daemon socket not served by root");
  }

  /* Unreadable stdin: the node entry reads it again and answers as the plugin always does (code 5;
     the port mapper's 100), instead of the daemon answering a config that seems empty. */
  if (read_stdin(&in) != 0 && in.n == 0) close(fd), fallback(&in, 0, "stdin cannot be read");
  struct buf req = {0};
  put(&req, "\0\0\0\0" "MCNI1", 10);
  put(&req, cfg.type, strlen(cfg.type) + 1);
  for (char **e = environ; *e; e++) put(&req, *e, strlen(*e) + 1);
  put(&req, "", 1);
  if (in.n) put(&req, in.p, in.n);
  uint32_t body = (uint32_t)(req.n - 4);
  unsigned char head[4] = {body >> 24, body >> 16, body >> 8, body};
  memcpy(req.p, head, 4);

  long ack_deadline = now_ms() + env_ms("MESOS_CNI_LAUNCHER_ACK_MS", 2000);
  char ack = 0;
  if (send_all(fd, req.p, req.n) != 0) close(fd), fallback(&in, 1, "send request failed");
  if (read_full(fd, &ack, 1, ack_deadline) != 0) close(fd), fallback(&in, 1, "no answer from the daemon");
  if (ack != 'A') close(fd), fallback(&in, 1, "daemon declined the call");
  /* A failed send of 'G' means the daemon closed first, so it never ran the call: still safe. */
  if (send_all(fd, "G", 1) != 0) close(fd), fallback(&in, 1, "daemon went away before go");

  /* Committed: from here the daemon owns the call. */
  long deadline = now_ms() + env_ms("MESOS_CNI_LAUNCHER_TIMEOUT_MS", 300000);
  unsigned char rh[4];
  if (read_full(fd, rh, 4, deadline) != 0) {
    int err = errno;
    cni_error(&in, 11, err == ETIMEDOUT ? "mesos-cni daemon did not answer in time" : "mesos-cni daemon went away mid-request", strerror(err));
  }
  uint32_t n = (uint32_t)rh[0] << 24 | rh[1] << 16 | rh[2] << 8 | rh[3];
  if (n < 2 || n > MAX_FRAME) cni_error(&in, 11, "mesos-cni daemon sent a malformed reply", "");
  char *reply = malloc(n);
  if (!reply) abort();
  if (read_full(fd, reply, n, deadline) != 0) cni_error(&in, 11, "mesos-cni daemon went away mid-request", strerror(errno));
  char *id_end = memchr(reply + 1, 0, n - 1);
  if (!id_end) cni_error(&in, 11, "mesos-cni daemon sent a malformed reply", "");
  say("served by the daemon", reply + 1);
  size_t out = n - (size_t)(id_end + 1 - reply);
  for (size_t off = 0; off < out;) {
    ssize_t k = write(1, id_end + 1 + off, out - off);
    if (k < 0 && errno == EINTR) continue;
    if (k <= 0) return 1;
    off += (size_t)k;
  }
  return (unsigned char)reply[0];
}
