/* bench/compat/pthreadpool.h: the one type xnnpack.h needs from pthreadpool.h.
 *
 * Debian 12's libxnnpack-dev includes <pthreadpool.h> but does not pull in libpthreadpool-dev.
 * The GEMM bench runs XNNPACK single-threaded (threadpool = NULL), so the opaque handle type is all
 * it uses; bench/CMakeLists.txt adds this directory only when the real header is absent. */
#pragma once
typedef struct pthreadpool* pthreadpool_t;
