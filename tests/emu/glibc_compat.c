/* The bochscpu-python 0.4.0 wheel is tagged manylinux_2_28 but was linked against glibc >= 2.38 and
 * references two C23 entry points unversioned. Debian 12 ships glibc 2.36. These forwarders satisfy
 * them; bochs_runner.py builds this file and loads it RTLD_GLOBAL before importing bochscpu.
 * (C23 strtoull/sscanf differ only in accepting 0b binary literals, which Bochs' config parsing,
 * the only caller, does not use.) */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

unsigned long long __isoc23_strtoull(const char* s, char** end, int base) { return strtoull(s, end, base); }

int __isoc23_sscanf(const char* s, const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int r = vsscanf(s, fmt, ap);
  va_end(ap);
  return r;
}
