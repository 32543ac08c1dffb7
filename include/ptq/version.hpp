// version.hpp: ptq's version. CMakeLists.txt reads these three lines, so they are the one source.
#pragma once

#define PTQ_VERSION_MAJOR 0
#define PTQ_VERSION_MINOR 1
#define PTQ_VERSION_PATCH 0

// 0.1.0 -> 100; comparable with <, like XSIMD_VERSION in spirit.
#define PTQ_VERSION (PTQ_VERSION_MAJOR * 10000 + PTQ_VERSION_MINOR * 100 + PTQ_VERSION_PATCH)
