// Digests and random bytes, synchronous and without Node's crypto module: loading `node:crypto`
// (and the streams under it) costs a fresh plugin process 3–5 ms, and an ADD needs only a SHA-256
// or SHA-512 of a few bytes (chain names, tag-index keys) and a few random bytes (veth and temporary
// file names). The digests come from the OpenSSL inside the node binary, which exports it to addons.
#include <errno.h>
#include <openssl/evp.h>
#include <sys/random.h>

#include <string>

#include "executor.h"
#include "registry.h"

namespace mcni {
namespace {

// digest(algorithm: "sha256" | "sha512", data: string (UTF-8) | Uint8Array) → Buffer
Napi::Value Digest(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string alg = info[0].As<Napi::String>();
  const EVP_MD* md = alg == "sha256" ? EVP_sha256() : alg == "sha512" ? EVP_sha512() : nullptr;
  if (md == nullptr) throw Napi::TypeError::New(env, "digest: algorithm: expected sha256 or sha512, got " + alg);
  std::string text;
  const void* p;
  size_t n;
  if (info[1].IsString()) {
    text = info[1].As<Napi::String>().Utf8Value();
    p = text.data();
    n = text.size();
  } else if (info[1].IsTypedArray()) {
    Napi::Uint8Array a = info[1].As<Napi::Uint8Array>();
    p = a.Data();
    n = a.ByteLength();
  } else {
    throw Napi::TypeError::New(env, "digest: data: expected a string or a Uint8Array");
  }
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(p, n, out, &len, md, nullptr) != 1) throw MakeError(env, Failure{-1, "digest " + alg + ": EVP_Digest failed"});
  return Napi::Buffer<uint8_t>::Copy(env, out, len);
}

// randomBytes(n: 0..256) → Buffer, from getrandom(2) (the kernel's CSPRNG; blocks only before it
// is seeded at boot).
Napi::Value RandomBytes(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uint32_t n = info[0].As<Napi::Number>().Uint32Value();
  if (n > 256) throw Napi::RangeError::New(env, "randomBytes: n: expected 0..256, got " + std::to_string(n));
  unsigned char buf[256];
  size_t got = 0;
  while (got < n) {
    ssize_t r = getrandom(buf + got, n - got, 0);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) throw MakeError(env, Failure{errno, "getrandom"});
    got += static_cast<size_t>(r);
  }
  return Napi::Buffer<uint8_t>::Copy(env, buf, n);
}

ExportFn e1("digest", Digest);
ExportFn e2("randomBytes", RandomBytes);

}  // namespace
}  // namespace mcni
