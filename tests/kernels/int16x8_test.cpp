// int16x8_test.cpp: placeholder
#include <doctest/doctest.h>
