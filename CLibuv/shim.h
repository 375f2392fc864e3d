#ifndef SPROUT_CLIBUV_SHIM_H
#define SPROUT_CLIBUV_SHIM_H
#include <uv.h>
#endif
