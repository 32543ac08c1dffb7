// io/tflite.hpp: TFLite models (.tflite) in and out of ptq's IR -- the reader
// (io/tflite_reader.hpp: read_tflite, parse_tflite) and the writer (io/tflite_writer.hpp:
// write_tflite, serialize_tflite), both on ptq's own bounds-checked flatbuffer walker
// (io/tflite_schema.hpp). No flatbuffers library; standard library plus POSIX file mapping.
#pragma once

#include "ptq/io/tflite_reader.hpp"
#include "ptq/io/tflite_writer.hpp"
