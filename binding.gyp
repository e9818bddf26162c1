{
  "targets": [
    {
      "target_name": "mesos_cni",
      "sources": ["<!@(ls -1 native/*.cc native/netlink/*.cc)"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")", "native"],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS", "NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS"],
      "cflags_cc": ["-std=c++17", "-O2", "-Wall", "-Wextra", "-Wno-unused-parameter", "-Wno-missing-field-initializers"],
      "cflags_cc!": ["-fno-exceptions"],
      "cflags!": ["-fno-exceptions"]
    },
    {
      "target_name": "mesos-cni-launcher",
      "type": "executable",
      "sources": ["native/launcher/launcher.c"],
      "cflags": ["-std=c11", "-O2", "-Wall", "-Wextra"],
      "ldflags": ["-static", "-s"]
    }
  ]
}
