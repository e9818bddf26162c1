// Module entry, run once per env that loads the addon (the main thread, each worker_thread):
// start that env's executor and publish every registered export.
#include <napi.h>

#include "executor.h"
#include "registry.h"

namespace mcni {

std::vector<Export>& Exports() {
  static std::vector<Export> all;
  return all;
}

}  // namespace mcni

static Napi::Object InitAll(Napi::Env env, Napi::Object exports) {
  mcni::InitExecutor(env);  // throws (and so fails the require) when it cannot work
  for (const mcni::Export& e : mcni::Exports()) exports.Set(e.name, Napi::Function::New(env, e.fn, e.name));
  return exports;
}

NODE_API_MODULE(mesos_cni, InitAll)
