// npy_test.cpp: io/npy.hpp -- the .npy reader against hand-written bytes (every version and dtype,
// NumPy's lenient spellings, every error with its message and byte offset), files NumPy itself wrote
// (tests/io/data, made by tests/io/data/make_npy.py), the writer's bytes against NumPy's, round
// trips, the atomic write, the sample and label loaders, and the bundled Fashion-MNIST data files
// (models/fashion_mnist) whose format the converter's tests rely on.
#include <doctest/doctest.h>

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "ptq/io/npy.hpp"

namespace {

using ptq::DType;
using ptq::Shape;
using ptq::StatusCode;
using ptq::io::NpyArray;
using Bytes = std::vector<uint8_t>;

const std::string kData = PTQ_NPY_TEST_DATA_DIR;
const std::string kFashion = PTQ_FASHION_MNIST_DIR;

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

Bytes bytes_of(const std::string& s) { return Bytes(s.begin(), s.end()); }

Bytes read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

void write_file(const std::string& path, const Bytes& b) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
}

// A .npy file of format `major`.0 with `header` (taken literally: padding and '\n' included) and
// `data`; the length field says header.size().
Bytes npy(int major, const std::string& header, const Bytes& data = {}) {
  Bytes b = {0x93, 'N', 'U', 'M', 'P', 'Y', static_cast<uint8_t>(major), 0};
  const int length_bytes = major == 1 ? 2 : 4;
  for (int i = 0; i < length_bytes; ++i) b.push_back(static_cast<uint8_t>(header.size() >> (8 * i)));
  b.insert(b.end(), header.begin(), header.end());
  b.insert(b.end(), data.begin(), data.end());
  return b;
}

// Version 1.0 with `dict` followed by a single '\n': the dict starts at byte 10.
Bytes v1(const std::string& dict, const Bytes& data = {}) { return npy(1, dict + "\n", data); }
constexpr std::size_t kDict = 10;

ptq::Status parse_error(const Bytes& b) {
  auto r = ptq::io::parse_npy(b.data(), b.size());
  REQUIRE_FALSE(r.ok());
  return r.status();
}

// Checks the error's code and that its message is "npy: at byte <at>: ...<part>...".
void check_error(const Bytes& b, StatusCode code, std::size_t at, const std::string& part) {
  const ptq::Status s = parse_error(b);
  CAPTURE(s.to_string());
  CHECK(s.code() == code);
  CHECK(contains(s.message(), "npy: at byte " + std::to_string(at) + ": "));
  CHECK(contains(s.message(), part));
}

class TempDir {
 public:
  TempDir() {
    const char* base = std::getenv("TMPDIR");
    std::string templ = std::string(base && *base ? base : "/tmp") + "/ptq_npy_XXXXXX";
    REQUIRE(::mkdtemp(templ.data()) != nullptr);
    path_ = templ;
  }
  ~TempDir() { remove_tree(path_); }
  std::string operator/(const std::string& name) const { return path_ + "/" + name; }
  const std::string& path() const { return path_; }
  static std::vector<std::string> list(const std::string& dir) {
    std::vector<std::string> names;
    if (DIR* d = ::opendir(dir.c_str())) {
      while (dirent* e = ::readdir(d)) {
        const std::string n = e->d_name;
        if (n != "." && n != "..") names.push_back(n);
      }
      ::closedir(d);
    }
    std::sort(names.begin(), names.end());
    return names;
  }

 private:
  static void remove_tree(const std::string& p) {
    struct stat st;
    if (::lstat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
      for (const std::string& n : list(p)) remove_tree(p + "/" + n);
      ::rmdir(p.c_str());
    } else {
      ::unlink(p.c_str());
    }
  }
  std::string path_;
};

template <class T>
std::vector<T> values(const NpyArray& a) {
  REQUIRE(a.data.size() == a.count() * sizeof(T));
  return std::vector<T>(a.as<T>(), a.as<T>() + a.count());
}

template <class T>
Bytes le_bytes(std::initializer_list<T> v) {
  Bytes b(v.size() * sizeof(T));
  std::memcpy(b.data(), v.begin(), b.size());  // the test host is little-endian, as ptq assumes
  return b;
}

}  // namespace

// ---- Hand-written files ----------------------------------------------------------------------

TEST_CASE("npy: version 1.0, every dtype, from hand-written bytes") {
  SUBCASE("<f4: 1.0 = 00 00 80 3f, -2.0 = 00 00 00 c0") {
    const Bytes b = v1("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", {0, 0, 0x80, 0x3f, 0, 0, 0, 0xc0});
    auto a = ptq::io::parse_npy(b.data(), b.size());
    REQUIRE(a.ok());
    CHECK(a->dtype == DType::kFloat32);
    CHECK(a->shape == Shape{2});
    CHECK(a->count() == 2);
    CHECK(values<float>(*a) == std::vector<float>{1.0f, -2.0f});
  }
  SUBCASE("<f2: 1.0 = 0x3c00, -0.5 = 0xb800, 65504 = 0x7bff") {
    const Bytes b = v1("{'descr': '<f2', 'fortran_order': False, 'shape': (3,), }", {0x00, 0x3c, 0x00, 0xb8, 0xff, 0x7b});
    auto a = ptq::io::parse_npy(b.data(), b.size());
    REQUIRE(a.ok());
    CHECK(a->dtype == DType::kFloat16);
    CHECK(values<uint16_t>(*a) == std::vector<uint16_t>{0x3c00, 0xb800, 0x7bff});
  }
  SUBCASE("|i1 and |u1: 0x80 = -128 or 128, 0xff = -1 or 255") {
    const Bytes i = v1("{'descr': '|i1', 'fortran_order': False, 'shape': (1, 2), }", {0x80, 0xff});
    auto a = ptq::io::parse_npy(i.data(), i.size());
    REQUIRE(a.ok());
    CHECK(a->dtype == DType::kInt8);
    CHECK(a->shape == Shape{1, 2});
    CHECK(values<int8_t>(*a) == std::vector<int8_t>{-128, -1});
    const Bytes u = v1("{'descr': '|u1', 'fortran_order': False, 'shape': (2,), }", {0x80, 0xff});
    auto b = ptq::io::parse_npy(u.data(), u.size());
    REQUIRE(b.ok());
    CHECK(b->dtype == DType::kUInt8);
    CHECK(values<uint8_t>(*b) == std::vector<uint8_t>{128, 255});
  }
  SUBCASE("<i2, <i4, <i8: little-endian two's complement") {
    const Bytes s = v1("{'descr': '<i2', 'fortran_order': False, 'shape': (2,), }", {0x01, 0x80, 0xfe, 0xff});
    auto a = ptq::io::parse_npy(s.data(), s.size());
    REQUIRE(a.ok());
    CHECK(a->dtype == DType::kInt16);
    CHECK(values<int16_t>(*a) == std::vector<int16_t>{-32767, -2});  // 0x8001, 0xfffe
    const Bytes w = v1("{'descr': '<i4', 'fortran_order': False, 'shape': (1,), }", {0x78, 0x56, 0x34, 0x12});
    auto b = ptq::io::parse_npy(w.data(), w.size());
    REQUIRE(b.ok());
    CHECK(b->dtype == DType::kInt32);
    CHECK(values<int32_t>(*b) == std::vector<int32_t>{0x12345678});
    const Bytes l = v1("{'descr': '<i8', 'fortran_order': False, 'shape': (1,), }",
                       {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f});
    auto c = ptq::io::parse_npy(l.data(), l.size());
    REQUIRE(c.ok());
    CHECK(c->dtype == DType::kInt64);
    CHECK(values<int64_t>(*c) == std::vector<int64_t>{INT64_MAX});
  }
  SUBCASE("one-byte types may say '<' too (NumPy normalises it to '|')") {
    const Bytes b = v1("{'descr': '<u1', 'fortran_order': False, 'shape': (1,), }", {7});
    auto a = ptq::io::parse_npy(b.data(), b.size());
    REQUIRE(a.ok());
    CHECK(a->dtype == DType::kUInt8);
  }
}

TEST_CASE("npy: versions 2.0 and 3.0 have a 4-byte header length") {
  for (int major : {2, 3}) {
    CAPTURE(major);
    // Header length 0x3a = 58 bytes: preamble 12 + 58 = 70, data at byte 70.
    const std::string header = "{'descr': '<i4', 'fortran_order': False, 'shape': (2,), }\n";
    REQUIRE(header.size() == 58);
    const Bytes b = npy(major, header, le_bytes<int32_t>({-7, 9}));
    CHECK(b[8] == 58);
    CHECK(b[9] == 0);
    CHECK(b[10] == 0);
    CHECK(b[11] == 0);
    auto a = ptq::io::parse_npy(b.data(), b.size());
    REQUIRE(a.ok());
    CHECK(values<int32_t>(*a) == std::vector<int32_t>{-7, 9});
  }
}

TEST_CASE("npy: lenient where NumPy is: padding, key order, quotes, spacing, 'L' dims, 0-d and empty arrays") {
  const auto parse = [](const std::string& dict, const Bytes& data) {
    const Bytes b = v1(dict, data);
    return ptq::io::parse_npy(b.data(), b.size());
  };
  const Bytes two_floats = le_bytes<float>({0.25f, 4.0f});
  SUBCASE("keys in any order, double quotes, no spaces, no trailing comma, padding of spaces and tabs") {
    auto a = parse("{\"shape\":(2,),\"fortran_order\":False,\"descr\":\"<f4\"}  \t  ", two_floats);
    REQUIRE(a.ok());
    CHECK(a->shape == Shape{2});
    CHECK(values<float>(*a) == std::vector<float>{0.25f, 4.0f});
  }
  SUBCASE("padding to 16 bytes (NumPy before 1.9) and no padding at all") {
    // preamble 10 + 57 (dict) + 4 spaces + '\n' = 72: not a multiple of 16 or 64, and that is fine.
    auto a = parse("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }    ", two_floats);
    REQUIRE(a.ok());
  }
  SUBCASE("Python 2's long dims (2L, 1L)") {
    auto a = parse("{'descr': '<f4', 'fortran_order': False, 'shape': (2L, 1L), }", two_floats);
    REQUIRE(a.ok());
    CHECK(a->shape == Shape{2, 1});
  }
  SUBCASE("a 0-d array: shape (), one element") {
    auto a = parse("{'descr': '<f4', 'fortran_order': False, 'shape': (), }", le_bytes<float>({3.5f}));
    REQUIRE(a.ok());
    CHECK(a->shape.rank() == 0);
    CHECK(a->count() == 1);
    CHECK(values<float>(*a) == std::vector<float>{3.5f});
  }
  SUBCASE("a zero dim: no data bytes") {
    auto a = parse("{'descr': '<i8', 'fortran_order': False, 'shape': (0, 1000000), }", {});
    REQUIRE(a.ok());
    CHECK(a->shape == Shape{0, 1000000});
    CHECK(a->count() == 0);
    CHECK(a->data.size() == 0);
  }
  SUBCASE("a trailing comma after the last dim of a 2-d shape") {
    auto a = parse("{'descr': '<f4', 'fortran_order': False, 'shape': (1, 2,), }", two_floats);
    REQUIRE(a.ok());
    CHECK(a->shape == Shape{1, 2});
  }
}

TEST_CASE("npy: the array's bytes are 64-byte aligned whatever the input's alignment") {
  const Bytes b = v1("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", le_bytes<float>({1.0f, 2.0f}));
  for (std::size_t shift = 0; shift < 4; ++shift) {
    Bytes shifted(shift);
    shifted.insert(shifted.end(), b.begin(), b.end());
    auto a = ptq::io::parse_npy(shifted.data() + shift, b.size());
    REQUIRE(a.ok());
    CHECK(reinterpret_cast<std::uintptr_t>(a->data.data()) % 64 == 0);
    CHECK(values<float>(*a) == std::vector<float>{1.0f, 2.0f});
  }
}

// ---- Every error ------------------------------------------------------------------------------

TEST_CASE("npy: preamble errors: magic, version, header length") {
  const Bytes good = v1("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", le_bytes<float>({1.0f}));
  check_error({}, StatusCode::kDataLoss, 0, "truncated: 0 bytes, shorter than the magic");
  check_error(Bytes(good.begin(), good.begin() + 4), StatusCode::kDataLoss, 4, "truncated: 4 bytes");
  Bytes b = good;
  b[5] = 'X';
  check_error(b, StatusCode::kDataLoss, 5, "not a .npy file");
  check_error(bytes_of("PK\x03\x04 a zip file"), StatusCode::kDataLoss, 0, "not a .npy file");
  check_error(Bytes(good.begin(), good.begin() + 7), StatusCode::kDataLoss, 7, "truncated in the version bytes");
  b = good;
  b[6] = 4;
  check_error(b, StatusCode::kUnimplemented, 6, "format version 4.0 (ptq reads 1.0, 2.0 and 3.0)");
  b = good;
  b[6] = 0;
  check_error(b, StatusCode::kUnimplemented, 6, "format version 0.0");
  b = good;
  b[7] = 1;
  check_error(b, StatusCode::kUnimplemented, 6, "format version 1.1");
  check_error(Bytes(good.begin(), good.begin() + 9), StatusCode::kDataLoss, 8, "truncated in the header length");
  const Bytes v2 = npy(2, "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }\n");
  check_error(Bytes(v2.begin(), v2.begin() + 11), StatusCode::kDataLoss, 8, "truncated in the header length");
  // The length field says 0xffff: the file has 10 + 57 + 1 + 4 = 72 bytes.
  b = good;
  b[8] = 0xff;
  b[9] = 0xff;
  check_error(b, StatusCode::kDataLoss, 8, "the header length 65535 runs past the end of the file (72 bytes)");
  // Version 2.0 with a 4 GB header length.
  Bytes big = npy(2, "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }\n");
  big[8] = big[9] = big[10] = big[11] = 0xff;
  check_error(big, StatusCode::kDataLoss, 8, "the header length 4294967295 runs past the end");
}

TEST_CASE("npy: header dict errors name the byte they are at") {
  const std::string ok = "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }";
  const Bytes data = le_bytes<float>({1.0f});
  const auto at = [](const std::string& dict, const std::string& part) { return kDict + dict.find(part); };
  SUBCASE("no '\\n' at the end") {
    const Bytes b = npy(1, ok + "  ", data);
    check_error(b, StatusCode::kDataLoss, kDict + ok.size() + 1, "the header does not end in '\\n'");
    check_error(npy(1, ""), StatusCode::kDataLoss, kDict, "the header does not end in '\\n'");
  }
  SUBCASE("a byte that is not printable ASCII") {
    std::string d = ok;
    d[2] = static_cast<char>(0xe9);
    check_error(v1(d, data), StatusCode::kDataLoss, kDict + 2, "header byte 0xe9 is not printable ASCII");
    d = ok;
    d[3] = '\0';
    check_error(v1(d, data), StatusCode::kDataLoss, kDict + 3, "header byte 0x00");
  }
  SUBCASE("not a dict, a bad key, a missing ':', ',' or '}'") {
    check_error(v1("['descr', '<f4']", data), StatusCode::kDataLoss, kDict, "the header is not a dict");
    const std::string nokey = "{descr: '<f4'}";
    check_error(v1(nokey, data), StatusCode::kDataLoss, kDict + 1, "expected a quoted string as a key");
    const std::string nocolon = "{'descr' '<f4'}";
    check_error(v1(nocolon, data), StatusCode::kDataLoss, at(nocolon, "'<f4'"), "expected ':' after the key 'descr'");
    const std::string nocomma = "{'descr': '<f4' 'shape': (1,)}";
    check_error(v1(nocomma, data), StatusCode::kDataLoss, at(nocomma, "'shape'"),
                "expected ',' or '}' after the value of 'descr'");
    const std::string open = "{'descr': '<f4', ";
    check_error(v1(open, data), StatusCode::kDataLoss, kDict + open.size() + 1, "expected a quoted string as a key");
  }
  SUBCASE("strings: unterminated, escapes") {
    const std::string unterminated = "{'descr': '<f4, 'fortran_order': False, 'shape': (1,)}";
    // The string opened at '<f4 runs to the quote before fortran_order, then "fortran_order" is not ':' etc.;
    // an opening quote with no closing one on the line is unterminated:
    const std::string lone = "{'descr': '<f4";
    check_error(v1(lone, data), StatusCode::kDataLoss, at(lone, "'<f4"), "unterminated string as the descr");
    check_error(v1(unterminated, data), StatusCode::kDataLoss, at(unterminated, "fortran_order"),
                "expected ',' or '}' after the value of 'descr'");
    const std::string escape = "{'descr': '<f\\x34', 'fortran_order': False, 'shape': (1,), }";
    check_error(v1(escape, data), StatusCode::kDataLoss, at(escape, "\\"), "escape sequences");
  }
  SUBCASE("missing, duplicated and unknown keys") {
    const std::string no_shape = "{'descr': '<f4', 'fortran_order': False, }";
    check_error(v1(no_shape, data), StatusCode::kDataLoss, kDict, "the header has no 'shape' key");
    const std::string no_descr = "{'fortran_order': False, 'shape': (1,), }";
    check_error(v1(no_descr, data), StatusCode::kDataLoss, kDict, "the header has no 'descr' key");
    const std::string no_order = "{'descr': '<f4', 'shape': (1,), }";
    check_error(v1(no_order, data), StatusCode::kDataLoss, kDict, "the header has no 'fortran_order' key");
    const std::string twice = "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'descr': '<i4', }";
    check_error(v1(twice, data), StatusCode::kDataLoss, kDict + twice.rfind("'descr'"), "the key 'descr' appears twice");
    const std::string extra = "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'order': 'C', }";
    check_error(v1(extra, data), StatusCode::kDataLoss, at(extra, "'order'"), "unknown key 'order'");
    check_error(v1("{}", data), StatusCode::kDataLoss, kDict, "no 'descr' key");
  }
  SUBCASE("text after the dict") {
    const std::string after = ok + " x";
    check_error(v1(after, data), StatusCode::kDataLoss, kDict + after.size() - 1, "unexpected 'x' after the header dict");
  }
  SUBCASE("fortran_order not a bool") {
    const std::string d = "{'descr': '<f4', 'fortran_order': 0, 'shape': (1,), }";
    check_error(v1(d, data), StatusCode::kDataLoss, at(d, "0,"), "fortran_order is '', not True or False");
    const std::string t = "{'descr': '<f4', 'fortran_order': true, 'shape': (1,), }";
    check_error(v1(t, data), StatusCode::kDataLoss, at(t, "true"), "fortran_order is 'true'");
  }
  SUBCASE("shapes: not a tuple, negative, not an integer, too long a number, too many dims") {
    const std::string list = "{'descr': '<f4', 'fortran_order': False, 'shape': [1], }";
    check_error(v1(list, data), StatusCode::kDataLoss, at(list, "[1]"), "the shape is not a tuple");
    const std::string paren = "{'descr': '<f4', 'fortran_order': False, 'shape': (1), }";
    check_error(v1(paren, data), StatusCode::kDataLoss, at(paren, "), }"), "the shape (n) is an int, not a tuple");
    const std::string neg = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, -1), }";
    check_error(v1(neg, data), StatusCode::kDataLoss, at(neg, "-1"), "shape dim 1 is negative");
    const std::string word = "{'descr': '<f4', 'fortran_order': False, 'shape': (n,), }";
    check_error(v1(word, data), StatusCode::kDataLoss, at(word, "n,)"), "shape dim 0 is not an integer");
    const std::string lone_comma = "{'descr': '<f4', 'fortran_order': False, 'shape': (,), }";
    check_error(v1(lone_comma, data), StatusCode::kDataLoss, at(lone_comma, ",)"), "shape dim 0 is not an integer");
    const std::string semicolon = "{'descr': '<f4', 'fortran_order': False, 'shape': (1; 2), }";
    check_error(v1(semicolon, data), StatusCode::kDataLoss, at(semicolon, "; 2"), "expected ',' or ')' in the shape");
    // 2^63 = 9223372036854775808 does not fit int64.
    const std::string huge = "{'descr': '<f4', 'fortran_order': False, 'shape': (9223372036854775808,), }";
    check_error(v1(huge, data), StatusCode::kDataLoss, at(huge, "922"), "shape dim 0 does not fit in 64 bits");
    std::string many = "{'descr': '<f4', 'fortran_order': False, 'shape': (";
    for (int i = 0; i < 65; ++i) many += "1, ";
    many += "), }";
    check_error(v1(many, data), StatusCode::kDataLoss, at(many, "(") + 1 + 64 * 3, "the shape has more than 64 dims");
  }
  SUBCASE("shapes whose byte count overflows 64 bits") {
    // 2^32 * 2^32 = 2^64 elements; and 2^31 * 2^31 = 2^62 elements of 4 bytes = 2^64 bytes.
    const std::string a = "{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296), }";
    check_error(v1(a, data), StatusCode::kDataLoss, at(a, "("), "has more bytes than 64 bits count");
    const std::string b = "{'descr': '<f4', 'fortran_order': False, 'shape': (2147483648, 2147483648), }";
    check_error(v1(b, data), StatusCode::kDataLoss, at(b, "("), "[2147483648, 2147483648] of float32");
    // 2^61 elements of 8 bytes = 2^64 bytes.
    const std::string c = "{'descr': '<i8', 'fortran_order': False, 'shape': (2305843009213693952,), }";
    check_error(v1(c, data), StatusCode::kDataLoss, at(c, "("), "has more bytes than 64 bits count");
    // 2^62 int16 = 2^63 bytes: one more than int64 holds.
    const std::string e = "{'descr': '<i2', 'fortran_order': False, 'shape': (4611686018427387904,), }";
    check_error(v1(e, data), StatusCode::kDataLoss, at(e, "("), "has more bytes than 64 bits count");
    // A zero dim does not excuse the others (NumPy: "array is too big"). Found by ptq_npy_fuzz: with
    // (12222222222222222, 2222, 0) the reader accepted an empty array whose Shape::num_elements()
    // then overflowed int64 (signed overflow, UBSan) before reaching the 0.
    const std::string f = "{'descr': '<f4', 'fortran_order': False, 'shape': (12222222222222222, 2222, 0), }";
    check_error(v1(f, {}), StatusCode::kDataLoss, at(f, "("), "[12222222222222222, 2222, 0] of float32 has more bytes");
    const std::string g = "{'descr': '<i8', 'fortran_order': False, 'shape': (0, 9223372036854775807), }";
    check_error(v1(g, {}), StatusCode::kDataLoss, at(g, "("), "has more bytes than 64 bits count");
    // 2^60 int8 elements: counted fine, then far more than the file holds.
    const std::string d = "{'descr': '|i1', 'fortran_order': False, 'shape': (1152921504606846976,), }";
    const Bytes file = v1(d, data);
    check_error(file, StatusCode::kDataLoss, file.size(), "truncated: the header declares [1152921504606846976] int8");
  }
}

TEST_CASE("npy: unsupported but valid arrays are unimplemented, naming what they are") {
  const Bytes data = le_bytes<float>({1.0f, 2.0f});
  const auto with_descr = [&](const std::string& descr) {
    return v1("{'descr': " + descr + ", 'fortran_order': False, 'shape': (1,), }", data);
  };
  const std::size_t at = kDict + std::string("{'descr': ").size();
  check_error(with_descr("'>f4'"), StatusCode::kUnimplemented, at, "descr '>f4': big-endian data is not supported");
  check_error(with_descr("'>i8'"), StatusCode::kUnimplemented, at, "big-endian");
  check_error(with_descr("'=f4'"), StatusCode::kUnimplemented, at, "native byte order is ambiguous");
  check_error(with_descr("'<f8'"), StatusCode::kUnimplemented, at, "descr '<f8' is not a supported type");
  check_error(with_descr("'<f8'"), StatusCode::kUnimplemented, at, "float64: save as float32");
  check_error(with_descr("'|b1'"), StatusCode::kUnimplemented, at, "bool: save as uint8");
  check_error(with_descr("'<u2'"), StatusCode::kUnimplemented, at, "descr '<u2' is not a supported type");
  check_error(with_descr("'<c8'"), StatusCode::kUnimplemented, at, "descr '<c8'");
  check_error(with_descr("'|O'"), StatusCode::kUnimplemented, at, "descr '|O'");
  check_error(with_descr("'<U3'"), StatusCode::kUnimplemented, at, "descr '<U3'");
  check_error(with_descr("[('a', '<f4')]"), StatusCode::kUnimplemented, at, "structured arrays are not supported");
  // Not even a type string: data_loss.
  check_error(with_descr("'f4'"), StatusCode::kDataLoss, at, "descr 'f4' does not start with a byte order");
  check_error(with_descr("''"), StatusCode::kDataLoss, at, "descr '' is not a NumPy type string");
  check_error(with_descr("'|f4'"), StatusCode::kDataLoss, at, "byte order '|' (not applicable) on a 4-byte type");
  const std::string fortran = "{'descr': '<f4', 'fortran_order': True, 'shape': (2,), }";
  check_error(v1(fortran, data), StatusCode::kUnimplemented, kDict + fortran.find("True"),
              "fortran_order is True: Fortran-order arrays are not supported");
}

TEST_CASE("npy: the data must be exactly as long as the header says") {
  const std::string dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), }";
  const std::size_t data_begin = kDict + dict.size() + 1;  // 10 + 59 + 1 = 70
  REQUIRE(data_begin == 70);
  const Bytes full = v1(dict, le_bytes<float>({1, 2, 3, 4}));
  REQUIRE(ptq::io::parse_npy(full.data(), full.size()).ok());
  SUBCASE("truncated by one byte, by an element, to the header alone") {
    for (std::size_t cut : {std::size_t{1}, std::size_t{4}, std::size_t{16}}) {
      const Bytes b(full.begin(), full.end() - static_cast<std::ptrdiff_t>(cut));
      check_error(b, StatusCode::kDataLoss, b.size(),
                  "truncated: the header declares [2, 2] float32 (16 bytes from byte 70) but the file ends " +
                      std::to_string(16 - cut) + " bytes after the header");
    }
  }
  SUBCASE("bytes after the data") {
    Bytes b = full;
    b.push_back(0);
    check_error(b, StatusCode::kDataLoss, 86, "1 bytes after the data of [2, 2] float32");
    b.insert(b.end(), 63, 0);
    check_error(b, StatusCode::kDataLoss, 86, "64 bytes after the data");
  }
  SUBCASE("a shape that claims less than the file holds (a header lie)") {
    const Bytes b = v1("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", le_bytes<float>({1, 2, 3, 4}));
    check_error(b, StatusCode::kDataLoss, 10 + 57 + 1 + 8, "8 bytes after the data of [2] float32");
  }
}

// ---- Files written by NumPy ---------------------------------------------------------------------

TEST_CASE("npy: files NumPy wrote read back with the values make_npy.py gave them") {
  SUBCASE("float32 [2, 3] = k / 4") {
    auto a = ptq::io::read_npy(kData + "/f4_2x3.npy");
    REQUIRE(a.ok());
    CHECK(a->dtype == DType::kFloat32);
    CHECK(a->shape == Shape{2, 3});
    CHECK(values<float>(*a) == std::vector<float>{0.0f, 0.25f, 0.5f, 0.75f, 1.0f, 1.25f});
    // np.save pads the header so that the data starts at byte 128; read_npy uses the bytes in place.
    CHECK(reinterpret_cast<std::uintptr_t>(a->data.data()) % 64 == 0);
  }
  SUBCASE("float16") {
    auto a = ptq::io::read_npy(kData + "/f2_5.npy");
    REQUIRE(a.ok());
    CHECK(a->dtype == DType::kFloat16);
    // IEEE half bits: 0 = 0x0000, 1 = 0x3c00, -2 = 0xc000, 0.5 = 0x3800, 65504 = 0x7bff
    CHECK(values<uint16_t>(*a) == std::vector<uint16_t>{0x0000, 0x3c00, 0xc000, 0x3800, 0x7bff});
  }
  SUBCASE("the integer types at their extremes") {
    auto i1 = ptq::io::read_npy(kData + "/i1_4.npy");
    REQUIRE(i1.ok());
    CHECK(values<int8_t>(*i1) == std::vector<int8_t>{-128, -1, 0, 127});
    auto u1 = ptq::io::read_npy(kData + "/u1_2x2.npy");
    REQUIRE(u1.ok());
    CHECK(u1->shape == Shape{2, 2});
    CHECK(values<uint8_t>(*u1) == std::vector<uint8_t>{0, 255, 1, 128});
    auto i2 = ptq::io::read_npy(kData + "/i2_3.npy");
    REQUIRE(i2.ok());
    CHECK(values<int16_t>(*i2) == std::vector<int16_t>{-32768, 7, 32767});
    auto i4 = ptq::io::read_npy(kData + "/i4_3.npy");
    REQUIRE(i4.ok());
    CHECK(values<int32_t>(*i4) == std::vector<int32_t>{INT32_MIN, -5, INT32_MAX});
    auto i8 = ptq::io::read_npy(kData + "/i8_3.npy");
    REQUIRE(i8.ok());
    CHECK(i8->dtype == DType::kInt64);
    CHECK(values<int64_t>(*i8) == std::vector<int64_t>{INT64_MIN, 3, INT64_MAX});
  }
  SUBCASE("0-d, empty, version 2.0 and 3.0") {
    auto s = ptq::io::read_npy(kData + "/f4_scalar.npy");
    REQUIRE(s.ok());
    CHECK(s->shape.rank() == 0);
    CHECK(values<float>(*s) == std::vector<float>{3.5f});
    auto e = ptq::io::read_npy(kData + "/f4_0x3.npy");
    REQUIRE(e.ok());
    CHECK(e->shape == Shape{0, 3});
    CHECK(e->count() == 0);
    for (const char* name : {"/f4_v2.npy", "/f4_v3.npy"}) {
      const Bytes raw = read_file(kData + name);
      REQUIRE(raw.size() > 8);
      CHECK(raw[6] == (name[5] == '2' ? 2 : 3));
      auto a = ptq::io::read_npy(kData + name);
      REQUIRE(a.ok());
      CHECK(values<float>(*a) == std::vector<float>{1.5f, -1.5f});
    }
  }
  SUBCASE("what ptq refuses, with the path in the message") {
    const auto refused = [](const std::string& name, const std::string& part) {
      auto a = ptq::io::read_npy(kData + "/" + name);
      REQUIRE_FALSE(a.ok());
      CAPTURE(a.status().to_string());
      CHECK(a.status().code() == StatusCode::kUnimplemented);
      CHECK(contains(a.status().message(), "'" + kData + "/" + name + "': at byte "));
      CHECK(contains(a.status().message(), part));
    };
    refused("fortran_f4_2x3.npy", "fortran_order is True");
    refused("big_endian_i4.npy", "descr '>i4': big-endian");
    refused("f8_2.npy", "descr '<f8'");
    refused("bool_2.npy", "descr '|b1'");
  }
}

TEST_CASE("npy: serialize_npy writes NumPy's bytes") {
  // The header of a float32 [2, 3]: "{'descr': '<f4', " (17) + "'fortran_order': False, " (24) +
  // "'shape': (2, 3), " (17) + "}" (1) = 59 characters; 10 + 59 + 1 ('\n') = 70, so NumPy pads 58
  // spaces to reach 128: the length field is 59 + 58 + 1 = 118 = 0x76.
  const std::vector<float> v = {0.0f, 0.25f, 0.5f, 0.75f, 1.0f, 1.25f};
  const Bytes b = ptq::io::serialize_npy(DType::kFloat32, Shape{2, 3}, v.data());
  REQUIRE(b.size() == 128 + 24);
  CHECK(b[6] == 1);
  CHECK(b[7] == 0);
  CHECK(b[8] == 0x76);
  CHECK(b[9] == 0);
  CHECK(std::string(b.begin() + 10, b.begin() + 69) == "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }");
  CHECK(std::string(b.begin() + 69, b.begin() + 127) == std::string(58, ' '));
  CHECK(b[127] == '\n');
  CHECK(b == read_file(kData + "/f4_2x3.npy"));  // and np.save wrote exactly these bytes

  // The other files NumPy wrote with np.save (version 1.0) are reproduced byte for byte too.
  for (const char* name : {"f2_5.npy", "i1_4.npy", "u1_2x2.npy", "i2_3.npy", "i4_3.npy", "i8_3.npy", "f4_scalar.npy",
                           "f4_0x3.npy", "labels_u1.npy"}) {
    CAPTURE(name);
    auto a = ptq::io::read_npy(kData + "/" + name);
    REQUIRE(a.ok());
    CHECK(ptq::io::serialize_npy(a->dtype, a->shape, a->data.data()) == read_file(kData + "/" + name));
  }
  // Refused inputs give no bytes.
  CHECK(ptq::io::serialize_npy(DType::kInt4, Shape{2}, v.data()).empty());
  CHECK(ptq::io::serialize_npy(DType::kFloat32, Shape{-1}, v.data()).empty());
  CHECK(ptq::io::serialize_npy(DType::kFloat32, Shape{INT64_MAX, 2, 0}, v.data()).empty());
}

TEST_CASE("npy: a header longer than 65535 bytes makes version 2.0") {
  // 30000 dims of 1: "1, " * 29999 + "1" = 89998 characters in the tuple alone: over the 1.0
  // limit, so version 2.0 -- but also over ptq's 64-dim limit, so it reads back as an error that
  // proves the header was parsed as 2.0 (the error is in the shape, not in the preamble).
  std::vector<int64_t> dims(30000, 1);
  const float one = 1.0f;
  const Bytes b = ptq::io::serialize_npy(DType::kFloat32, Shape(dims), &one);
  REQUIRE(b.size() > 65536);
  CHECK(b[6] == 2);
  CHECK((12 + (b[8] | b[9] << 8 | b[10] << 16 | b[11] << 24)) % 64 == 0);
  const ptq::Status s = parse_error(b);
  CHECK(contains(s.message(), "the shape has more than 64 dims"));
}

TEST_CASE("npy: round trips of every dtype and rank through bytes and files") {
  TempDir dir;
  const std::vector<uint8_t> pattern = [] {
    std::vector<uint8_t> p(8 * 60);
    for (std::size_t i = 0; i < p.size(); ++i) p[i] = static_cast<uint8_t>(i * 37 + 11);
    return p;
  }();
  for (DType t : {DType::kFloat32, DType::kFloat16, DType::kInt8, DType::kUInt8, DType::kInt16, DType::kInt32,
                  DType::kInt64}) {
    for (const Shape& shape : {Shape{}, Shape{0}, Shape{1}, Shape{7}, Shape{3, 4}, Shape{2, 1, 3, 5}, Shape{5, 0, 2}}) {
      CAPTURE(ptq::dtype_name(t));
      CAPTURE(shape.to_string());
      const Bytes b = ptq::io::serialize_npy(t, shape, pattern.data());
      REQUIRE_FALSE(b.empty());
      CHECK(b.size() % 64 == (shape.num_elements() * static_cast<int64_t>(ptq::dtype_size(t))) % 64);
      auto a = ptq::io::parse_npy(b.data(), b.size());
      REQUIRE(a.ok());
      CHECK(a->dtype == t);
      CHECK(a->shape == shape);
      const std::size_t n = a->count() * ptq::dtype_size(t);
      REQUIRE(a->data.size() == n);
      CHECK(std::equal(pattern.begin(), pattern.begin() + static_cast<std::ptrdiff_t>(n), a->data.data()));
      const std::string path = dir / "a.npy";
      REQUIRE(ptq::io::write_npy(path, t, shape, pattern.data()).ok());
      CHECK(read_file(path) == b);
      auto f = ptq::io::read_npy(path);
      REQUIRE(f.ok());
      CHECK(f->shape == shape);
      CHECK(std::equal(pattern.begin(), pattern.begin() + static_cast<std::ptrdiff_t>(n), f->data.data()));
    }
  }
  CHECK(TempDir::list(dir.path()) == std::vector<std::string>{"a.npy"});
}

TEST_CASE("npy: write_npy is atomic and refuses what .npy cannot hold; read_npy names the path") {
  TempDir dir;
  const std::string path = dir / "x.npy";
  const float v[2] = {1.0f, 2.0f};
  REQUIRE(ptq::io::write_npy(path, DType::kFloat32, Shape{2}, v).ok());
  const Bytes before = read_file(path);
  SUBCASE("int4 and negative dims: invalid_argument, nothing written") {
    const ptq::Status s = ptq::io::write_npy(path, DType::kInt4, Shape{2}, v);
    CHECK(s.code() == StatusCode::kInvalidArgument);
    CHECK(contains(s.message(), "write_npy '" + path + "': dtype int4 has no .npy equivalent"));
    const ptq::Status n = ptq::io::write_npy(path, DType::kFloat32, Shape{2, -1}, v);
    CHECK(n.code() == StatusCode::kInvalidArgument);
    CHECK(contains(n.message(), "shape [2, -1] has a negative dim"));
    const ptq::Status o = ptq::io::write_npy(path, DType::kFloat32, Shape{0, INT64_MAX}, v);
    CHECK(o.code() == StatusCode::kInvalidArgument);
    CHECK(contains(o.message(), "shape [0, 9223372036854775807] has more bytes than 64 bits count"));
    CHECK(read_file(path) == before);
  }
  SUBCASE("a missing folder: io error, nothing left behind") {
    const ptq::Status s = ptq::io::write_npy(dir / "missing/x.npy", DType::kFloat32, Shape{2}, v);
    CHECK(s.code() == StatusCode::kIo);
    CHECK(contains(s.message(), "write_npy '" + dir / "missing/x.npy" + "': cannot create the temporary file"));
  }
  SUBCASE("the target is a folder: the rename fails, the temporary is removed") {
    REQUIRE(::mkdir((dir / "sub").c_str(), 0755) == 0);
    const ptq::Status s = ptq::io::write_npy(dir / "sub", DType::kFloat32, Shape{2}, v);
    CHECK(s.code() == StatusCode::kIo);
    CHECK(contains(s.message(), "cannot rename"));
    CHECK(TempDir::list(dir.path()) == std::vector<std::string>{"sub", "x.npy"});
  }
  SUBCASE("read_npy: a missing file, a folder, a truncated file") {
    auto missing = ptq::io::read_npy(dir / "absent.npy");
    REQUIRE_FALSE(missing.ok());
    CHECK(missing.status().code() == StatusCode::kNotFound);
    CHECK(contains(missing.status().message(), "'" + dir / "absent.npy" + "'"));
    auto folder = ptq::io::read_npy(dir.path());
    REQUIRE_FALSE(folder.ok());
    CHECK(folder.status().code() == StatusCode::kIo);
    Bytes cut = before;
    cut.pop_back();
    write_file(dir / "cut.npy", cut);
    auto t = ptq::io::read_npy(dir / "cut.npy");
    REQUIRE_FALSE(t.ok());
    CHECK(t.status().code() == StatusCode::kDataLoss);
    CHECK(contains(t.status().message(), "'" + dir / "cut.npy" + "': at byte 135: truncated"));
  }
}

// ---- Samples and labels -------------------------------------------------------------------------

TEST_CASE("npy: load_samples from one file, from a folder of shards, and for two inputs") {
  ptq::convert::InputSet in;
  SUBCASE("one float file: one sample per row") {
    auto d = ptq::io::load_samples({kData + "/f4_2x3.npy"}, {3});
    REQUIRE(d.ok());
    REQUIRE(d->size() == 2);
    REQUIRE(d->read(1, in).ok());
    REQUIRE(in.size() == 1);
    CHECK(in[0] == std::vector<float>{0.75f, 1.0f, 1.25f});
  }
  SUBCASE("a folder of shards, concatenated in file-name order: sample s holds s*10 + e") {
    auto d = ptq::io::load_samples({kData + "/shards"}, {4});
    REQUIRE(d.ok());
    REQUIRE(d->size() == 5);
    for (std::size_t s = 0; s < 5; ++s) {
      REQUIRE(d->read(s, in).ok());
      for (std::size_t e = 0; e < 4; ++e) CHECK(in[0][e] == static_cast<float>(s * 10 + e));
    }
  }
  SUBCASE("integers and float16 convert as values, without scaling") {
    auto u = ptq::io::load_samples({kData + "/u1_2x2.npy"}, {2});
    REQUIRE(u.ok());
    REQUIRE(u->read(0, in).ok());
    CHECK(in[0] == std::vector<float>{0.0f, 255.0f});
    auto h = ptq::io::load_samples({kData + "/f2_5.npy"}, {1});
    REQUIRE(h.ok());
    REQUIRE(h->size() == 5);
    REQUIRE(h->read(4, in).ok());
    CHECK(in[0] == std::vector<float>{65504.0f});
    auto i = ptq::io::load_samples({kData + "/i1_4.npy"}, {1});
    REQUIRE(i.ok());
    REQUIRE(i->read(0, in).ok());
    CHECK(in[0] == std::vector<float>{-128.0f});
  }
  SUBCASE("two inputs: each sample holds one vector per input") {
    auto d = ptq::io::load_samples({kData + "/f4_2x3.npy", kData + "/u1_2x2.npy"}, {3, 2});
    REQUIRE(d.ok());
    REQUIRE(d->size() == 2);
    REQUIRE(d->read(1, in).ok());
    REQUIRE(in.size() == 2);
    CHECK(in[0] == std::vector<float>{0.75f, 1.0f, 1.25f});
    CHECK(in[1] == std::vector<float>{1.0f, 128.0f});
  }
}

TEST_CASE("npy: load_samples errors name the input, the file, its shape and the expected count") {
  const auto error = [](const std::vector<std::string>& paths, const std::vector<int64_t>& n) {
    auto d = ptq::io::load_samples(paths, n);
    REQUIRE_FALSE(d.ok());
    return d.status();
  };
  ptq::Status s = error({kData + "/f4_2x3.npy"}, {6});
  CHECK(s.code() == StatusCode::kInvalidArgument);
  CHECK(s.message() == "load_samples: input 0: '" + kData + "/f4_2x3.npy' ([2, 3] float32): a sample holds 3 " +
                           "elements, the model input expects 6");
  s = error({kData + "/f4_2x3.npy", kData + "/i1_4.npy"}, {3, 1});
  CHECK(contains(s.message(), "input 1: '" + kData + "/i1_4.npy' holds more samples than input 0 (2)"));
  s = error({kData + "/i1_4.npy", kData + "/f4_2x3.npy"}, {1, 3});
  CHECK(contains(s.message(), "input 1: '" + kData + "/f4_2x3.npy' holds 2 samples, input 0 holds 4"));
  s = error({kData + "/f4_scalar.npy"}, {1});
  CHECK(contains(s.message(), "([] float32): a 0-d array has no sample axis"));
  s = error({kData + "/f4_0x3.npy"}, {3});
  CHECK(contains(s.message(), "holds no samples"));
  s = error({kData + "/f4_2x3.npy"}, {3, 3});
  CHECK(s.message() == "load_samples: 1 paths for 2 model inputs");
  s = error({kData + "/f4_2x3.npy"}, {0});
  CHECK(contains(s.message(), "expected element count 0 is not positive"));
  s = error({kData + "/absent.npy"}, {3});
  CHECK(s.code() == StatusCode::kNotFound);
  CHECK(contains(s.message(), "load_samples: input 0: '" + kData + "/absent.npy'"));
  s = error({kData + "/f8_2.npy"}, {1});
  CHECK(s.code() == StatusCode::kUnimplemented);
  CHECK(contains(s.message(), "descr '<f8'"));

  TempDir dir;
  s = error({dir.path()}, {4});
  CHECK(s.code() == StatusCode::kNotFound);
  CHECK(contains(s.message(), "'" + dir.path() + "': the folder holds no .npy file"));
  const float f[8] = {};
  const int32_t i[4] = {};
  REQUIRE(ptq::io::write_npy(dir / "a.npy", DType::kFloat32, Shape{2, 4}, f).ok());
  REQUIRE(ptq::io::write_npy(dir / "b.npy", DType::kInt32, Shape{1, 4}, i).ok());
  s = error({dir.path()}, {4});
  CHECK(contains(s.message(), "'" + dir / "b.npy" + "' ([1, 4] int32): disagrees with the first shard '" + dir / "a.npy" +
                                  "' ([2, 4] float32) in dtype or inner shape"));
  REQUIRE(ptq::io::write_npy(dir / "b.npy", DType::kFloat32, Shape{1, 2, 2}, f).ok());
  s = error({dir.path()}, {4});
  CHECK(contains(s.message(), "([1, 2, 2] float32): disagrees with the first shard"));
  // Files that are not .npy are ignored in a folder.
  REQUIRE(ptq::io::write_npy(dir / "b.npy", DType::kFloat32, Shape{1, 4}, f).ok());
  write_file(dir / "README.txt", bytes_of("not data"));
  auto ok = ptq::io::load_samples({dir.path()}, {4});
  REQUIRE(ok.ok());
  CHECK(ok->size() == 3);
}

TEST_CASE("npy: load_labels") {
  auto u = ptq::io::load_labels(kData + "/labels_u1.npy");
  REQUIRE(u.ok());
  CHECK(*u == std::vector<int64_t>{3, 0, 9});
  TempDir dir;
  const int32_t column[3] = {4, 1, 2};
  REQUIRE(ptq::io::write_npy(dir / "col.npy", DType::kInt32, Shape{3, 1}, column).ok());
  auto c = ptq::io::load_labels(dir / "col.npy");
  REQUIRE(c.ok());
  CHECK(*c == std::vector<int64_t>{4, 1, 2});
  const auto error = [](const std::string& path) {
    auto r = ptq::io::load_labels(path);
    REQUIRE_FALSE(r.ok());
    return r.status().message();
  };
  CHECK(error(kData + "/i8_3.npy") == "load_labels '" + kData + "/i8_3.npy' ([3] int64): label 0 = " +
                                          "-9223372036854775808 is negative");
  CHECK(contains(error(kData + "/f4_0x3.npy"), "([0, 3] float32): labels must be integers"));
  CHECK(contains(error(kData + "/u1_2x2.npy"), "([2, 2] uint8): labels must be 1-d or [N, 1]"));
  CHECK(contains(error(kData + "/f4_scalar.npy"), "labels must be integers"));
  CHECK(contains(error(dir / "absent.npy"), "load_labels: '" + dir / "absent.npy" + "'"));
}

// ---- The bundled Fashion-MNIST data (models/fashion_mnist, tools/models/train_fashion_mnist.py) ----

TEST_CASE("npy: the bundled Fashion-MNIST calibration, evaluation and label files") {
  // Expected figures computed once with NumPy 1.24 from the files as committed:
  //   y = np.load('eval_labels_2000.npy'); np.bincount(y, minlength=10).tolist(); y[:10].tolist()
  //   int(np.rint(np.load('eval_2000.npy') * 255).astype(np.int64).sum())   (and calib_100.npy)
  // Every value is a pixel k in [0, 255] divided by 255 in float32, so float(k) / 255.0f gives it back
  // exactly (IEEE division is correctly rounded in both).
  const auto check_pixels = [](const ptq::convert::Dataset& d, int64_t expected_pixel_sum) {
    ptq::convert::InputSet in;
    int64_t pixel_sum = 0, not_a_pixel = 0;
    float lo = 1.0f, hi = 0.0f;
    for (std::size_t s = 0; s < d.size(); ++s) {
      REQUIRE(d.read(s, in).ok());
      REQUIRE(in.size() == 1);
      REQUIRE(in[0].size() == 784);
      for (float v : in[0]) {
        lo = std::min(lo, v);
        hi = std::max(hi, v);
        const long k = std::lround(v * 255.0f);
        if (static_cast<float>(k) / 255.0f != v) ++not_a_pixel;
        pixel_sum += k;
      }
    }
    CHECK(lo == 0.0f);
    CHECK(hi == 1.0f);
    CHECK(not_a_pixel == 0);
    CHECK(pixel_sum == expected_pixel_sum);
  };
  SUBCASE("eval_2000.npy: float32 [2000, 1, 28, 28], 784 elements per sample (also [N, 28, 28] for the LSTM)") {
    auto raw = ptq::io::read_npy(kFashion + "/eval_2000.npy");
    REQUIRE(raw.ok());
    CHECK(raw->dtype == DType::kFloat32);
    CHECK(raw->shape == Shape{2000, 1, 28, 28});
    auto d = ptq::io::load_samples({kFashion + "/eval_2000.npy"}, {784});
    REQUIRE(d.ok());
    CHECK(d->size() == 2000);
    check_pixels(*d, 114763281);
  }
  SUBCASE("calib_100.npy: float32 [100, 1, 28, 28], the first 100 training images") {
    auto raw = ptq::io::read_npy(kFashion + "/calib_100.npy");
    REQUIRE(raw.ok());
    CHECK(raw->dtype == DType::kFloat32);
    CHECK(raw->shape == Shape{100, 1, 28, 28});
    auto d = ptq::io::load_samples({kFashion + "/calib_100.npy"}, {784});
    REQUIRE(d.ok());
    CHECK(d->size() == 100);
    check_pixels(*d, 5688570);
  }
  SUBCASE("eval_labels_2000.npy: int64 [2000], ten classes") {
    auto raw = ptq::io::read_npy(kFashion + "/eval_labels_2000.npy");
    REQUIRE(raw.ok());
    CHECK(raw->dtype == DType::kInt64);
    CHECK(raw->shape == Shape{2000});
    auto labels = ptq::io::load_labels(kFashion + "/eval_labels_2000.npy");
    REQUIRE(labels.ok());
    REQUIRE(labels->size() == 2000);
    CHECK(std::vector<int64_t>(labels->begin(), labels->begin() + 10) == std::vector<int64_t>{9, 2, 1, 1, 6, 1, 4, 6, 5, 7});
    std::array<int, 10> histogram{};
    for (int64_t y : *labels) {
      REQUIRE(y >= 0);
      REQUIRE(y < 10);
      ++histogram[static_cast<std::size_t>(y)];
    }
    CHECK(histogram == std::array<int, 10>{200, 203, 214, 190, 219, 195, 197, 200, 194, 188});
  }
  SUBCASE("<model>_logits_2000.npy: float32 [2000, 10], torch's outputs") {
    for (const std::string model : {"cnn", "mlp", "lstm"}) {
      CAPTURE(model);
      auto logits = ptq::io::read_npy(kFashion + "/" + model + "_logits_2000.npy");
      REQUIRE(logits.ok());
      CHECK(logits->dtype == DType::kFloat32);
      CHECK(logits->shape == Shape{2000, 10});
    }
  }
}
