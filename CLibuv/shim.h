#ifndef SPROUT_CLIBUV_SHIM_H
#define SPROUT_CLIBUV_SHIM_H
#include <uv.h>
#ifdef __linux__
#include <execinfo.h>  /* backtrace, for the blocked-hub report's stack */
#include <sys/timerfd.h>
#endif
#endif
