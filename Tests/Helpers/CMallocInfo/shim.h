// glibc's heap statistics (mallinfo2), which Swift's Glibc module leaves out: the chaos
// test's leak check counts the heap's bytes in use.
#include <malloc.h>
