// Static-init registries, so each source file adds its own JS exports and netlink verbs
// without a central list to edit.
#pragma once
#include <napi.h>

#include <string>
#include <vector>

namespace mcni {

struct Export {
  const char* name;
  Napi::Value (*fn)(const Napi::CallbackInfo&);
};
std::vector<Export>& Exports();

// `static ExportFn e("name", Fn);` in a .cc file makes `binding.name` available to lib/native.
struct ExportFn {
  ExportFn(const char* name, Napi::Value (*fn)(const Napi::CallbackInfo&)) {
    Exports().push_back({name, fn});
  }
};

}  // namespace mcni
