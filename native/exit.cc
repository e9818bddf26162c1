// exitNow(status): end the process at once with _exit(2). A plugin process has nothing left to do
// once its answer is written, but Node's own exit still frees the V8 heap page by page, joins its
// platform and libuv threads and runs the env's cleanup hooks (ours joins the executor's): ~3-4 ms
// of every exec'd ADD, DEL and VERSION on this machine, after the runtime already has the answer.
// The kernel closes every descriptor (netlink sockets, flock'd files) as for any exit.
// lib/cni/stdio.ts's exitWhenDone calls it only when everything was written synchronously and
// nothing asked to run at exit (an 'exit' listener, V8 coverage or a profile), and only from a
// plugin's main thread.
#include <unistd.h>

#include "registry.h"

namespace mcni {
namespace {

Napi::Value ExitNow(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsNumber()) throw Napi::TypeError::New(env, "exitNow: status: expected a number");
  int status = info[0].As<Napi::Number>().Int32Value();
  if (status < 0 || status > 255) throw Napi::RangeError::New(env, "exitNow: status: expected 0..255, got " + std::to_string(status));
  _exit(status);
}

ExportFn e1("exitNow", ExitNow);

}  // namespace
}  // namespace mcni
