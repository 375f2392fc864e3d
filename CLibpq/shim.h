#ifndef SPROUT_CLIBPQ_SHIM_H
#define SPROUT_CLIBPQ_SHIM_H
#include <libpq-fe.h>
#endif
