#include "odr/tu_body.inc"
TuReport report_baseline_tu() { return make_report(); }
