#include "odr/tu_body.inc"
TuReport report_avx2_tu() { return make_report(); }
