#ifndef SPROUT_CLIBUV_SHIM_H
#define SPROUT_CLIBUV_SHIM_H
#ifndef _GNU_SOURCE
#define _GNU_SOURCE  /* dladdr, for the names in the blocked-hub report's stack */
#endif
#include <uv.h>
#ifdef __linux__
#include <execinfo.h>
#include <dlfcn.h>
#include <sys/timerfd.h>
#endif
#endif
