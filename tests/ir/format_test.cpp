// The model file format (ir/format.hpp, specified in ir/format.md): round trips, the layout the
// spec promises, version rules, named errors, corruption of real files at every offset class,
// load_model's mapping and save_model's atomicity.
//
// The layout is read here the way format.md describes it (le(), toc(), tensor_records(), ...),
// independently of the reader under test; expected messages are written out in full.
#include <doctest/doctest.h>

#include <dirent.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "ir/format_models.hpp"
#include "ptq/ir/format.hpp"
#include "support/isa_coverage.hpp"  // kSanitized

namespace fmt = ptq::ir::format;
using ptq::StatusCode;
using ptq::ir::Graph;
using ptq::ir::ReadOptions;
using Bytes = std::vector<uint8_t>;
using ptq_test::float_bits;
using ptq_test::header_checksum;
using ptq_test::le;
using ptq_test::put;
using ptq_test::reseal;
using ptq_test::toc;
using ptq_test::TocEntry;
using ptq_test::with_extra_section;

namespace {

// ---- The layout, read per format.md (le, put, toc, reseal: format_models.hpp) ----------------------

TocEntry section(const Bytes& f, fmt::Section id) {
  for (const TocEntry& e : toc(f)) {
    if (e.id == static_cast<uint32_t>(id)) return e;
  }
  FAIL("no section " << static_cast<int>(id));
  return {};
}

std::vector<uint64_t> tensor_records(const Bytes& f) {
  const TocEntry s = section(f, fmt::Section::kTensors);
  std::vector<uint64_t> at;
  uint64_t r = s.offset;
  for (uint32_t i = 0; i < s.count; ++i) {
    at.push_back(r);
    r += fmt::kTensorFixedSize + 8 * le(f, r + fmt::kTensorRank, 4) + 8 * le(f, r + fmt::kTensorScaleCount, 4);
  }
  CHECK(r == s.end());
  return at;
}
std::vector<uint64_t> op_records(const Bytes& f) {
  const TocEntry s = section(f, fmt::Section::kOps);
  std::vector<uint64_t> at;
  uint64_t r = s.offset;
  for (uint32_t i = 0; i < s.count; ++i) {
    at.push_back(r);
    const uint64_t ids = le(f, r + fmt::kOpInputCount, 4) + le(f, r + fmt::kOpOutputCount, 4);
    r += (fmt::kOpFixedSize + 4 * ids + 7) / 8 * 8;
  }
  CHECK(r == s.end());
  return at;
}
// Absolute offsets of op `op`'s attribute records.
std::vector<uint64_t> attr_records(const Bytes& f, int op) {
  const uint64_t r = op_records(f).at(static_cast<std::size_t>(op));
  const uint64_t begin = section(f, fmt::Section::kAttributes).offset + le(f, r + fmt::kOpAttrOffset, 8);
  const uint64_t end = begin + le(f, r + fmt::kOpAttrSize, 4);
  std::vector<uint64_t> at;
  for (uint64_t a = begin; a < end; a += fmt::kAttrRecordHeaderSize + le(f, a + 4, 4)) at.push_back(a);
  return at;
}

// ---- Helpers ---------------------------------------------------------------------------------------

Bytes bytes_of(const Graph& g) {
  auto r = ptq::ir::serialize(g);
  REQUIRE_MESSAGE(r.ok(), r.status().to_string());
  return std::move(r).value();
}
ptq::Result<Graph> parse(const Bytes& f, const ReadOptions& options = {}) {
  return ptq::ir::parse_model(f.data(), f.size(), {}, options);
}

// The first difference between two graphs, "" when equal: names, tensors (dtype, shape,
// quantization, constness, bytes), ops (kind, name, inputs, outputs, attributes), inputs, outputs.
std::string difference(const Graph& a, const Graph& b) {
  if (a.name != b.name) return "graph name";
  if (a.tensors.size() != b.tensors.size()) return "tensor count";
  for (std::size_t i = 0; i < a.tensors.size(); ++i) {
    const ptq::ir::Tensor &x = a.tensors[i], &y = b.tensors[i];
    const std::string t = "tensor " + std::to_string(i) + " ";
    if (x.name != y.name) return t + "name";
    if (x.dtype != y.dtype) return t + "dtype";
    if (x.shape != y.shape) return t + "shape";
    if (x.quant != y.quant || x.quant.axis != y.quant.axis) return t + "quantization";
    if (x.is_constant() != y.is_constant()) return t + "constness";
    if (x.data.size() != y.data.size()) return t + "data size";
    if (x.data.size() && std::memcmp(x.data.data(), y.data.data(), x.data.size()) != 0) return t + "data bytes";
  }
  if (a.ops.size() != b.ops.size()) return "op count";
  for (std::size_t i = 0; i < a.ops.size(); ++i) {
    const ptq::ir::Op &x = a.ops[i], &y = b.ops[i];
    const std::string o = "op " + std::to_string(i) + " ";
    if (x.kind != y.kind) return o + "kind";
    if (x.name != y.name) return o + "name";
    if (x.inputs != y.inputs) return o + "inputs";
    if (x.outputs != y.outputs) return o + "outputs";
    if (x.attrs != y.attrs) return o + "attributes";
  }
  if (a.inputs != b.inputs) return "graph inputs";
  if (a.outputs != b.outputs) return "graph outputs";
  return "";
}

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

// Expects `f` to fail with `code` and a message "at byte <at>: ...<text>...".
void expect_error(const Bytes& f, uint64_t at, StatusCode code, const std::string& text) {
  auto r = parse(f);
  REQUIRE_FALSE(r.ok());
  const std::string m = r.status().message();
  CAPTURE(m);
  CHECK(r.status().code() == code);
  CHECK(m.rfind("at byte " + std::to_string(at) + ": ", 0) == 0);
  CHECK(contains(m, text));
}

// A directory under $TMPDIR (or /tmp), removed with its files at the end of the test.
class TempDir {
 public:
  TempDir() {
    const char* base = std::getenv("TMPDIR");
    std::string templ = std::string(base && *base ? base : "/tmp") + "/ptq_format_XXXXXX";
    REQUIRE(::mkdtemp(templ.data()) != nullptr);
    path_ = templ;
  }
  ~TempDir() { remove_tree(path_); }
  const std::string& path() const { return path_; }
  std::string operator/(const std::string& name) const { return path_ + "/" + name; }

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
    ::chmod(p.c_str(), 0700);
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

Bytes read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}
void write_file(const std::string& path, const Bytes& b) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
}

// ---- The class of every byte of a file, for the corruption test ------------------------------------

std::vector<std::string> byte_classes(const Bytes& f) {
  std::vector<std::string> c(f.size(), "padding");
  const auto mark = [&](uint64_t begin, uint64_t size, const std::string& name) {
    for (uint64_t i = begin; i < begin + size && i < f.size(); ++i) c[i] = name;
  };
  mark(0, 8, "header.magic");
  mark(8, 2, "header.major");
  mark(10, 2, "header.minor");
  mark(12, 4, "header.flags");
  mark(16, 8, "header.file_size");
  mark(24, 8, "header.toc_offset");
  mark(32, 8, "header.toc_size");
  mark(40, 16, "header.reserved");
  mark(56, 8, "header.checksum");
  for (const TocEntry& e : toc(f)) {
    mark(e.at, 4, "toc.id");
    mark(e.at + 4, 4, "toc.count");
    mark(e.at + 8, 8, "toc.offset");
    mark(e.at + 16, 8, "toc.size");
    mark(e.at + 24, 8, "toc.checksum");
  }
  const TocEntry strings = section(f, fmt::Section::kStrings);
  mark(strings.offset, strings.size, "strings");
  for (uint64_t r : tensor_records(f)) {
    const uint64_t rank = le(f, r + fmt::kTensorRank, 4), n = le(f, r + fmt::kTensorScaleCount, 4);
    mark(r, 4, "tensor.name_offset");
    mark(r + 4, 4, "tensor.name_length");
    mark(r + 8, 1, "tensor.dtype");
    mark(r + 9, 1, "tensor.flags");
    mark(r + 10, 2, "tensor.reserved");
    mark(r + 12, 4, "tensor.rank");
    mark(r + 16, 4, "tensor.scale_count");
    mark(r + 20, 4, "tensor.axis");
    mark(r + 24, 8, "tensor.blob_offset");
    mark(r + 32, 8, "tensor.blob_size");
    mark(r + 40, 8 * rank, "tensor.dims");
    mark(r + 40 + 8 * rank, 4 * n, "tensor.scales");
    mark(r + 40 + 8 * rank + 4 * n, 4 * n, "tensor.zero_points");
  }
  const auto ops = op_records(f);
  for (std::size_t i = 0; i < ops.size(); ++i) {
    const uint64_t r = ops[i];
    const uint64_t n_in = le(f, r + fmt::kOpInputCount, 4), n_out = le(f, r + fmt::kOpOutputCount, 4);
    mark(r, 4, "op.name_offset");
    mark(r + 4, 4, "op.name_length");
    mark(r + 8, 2, "op.kind");
    mark(r + 10, 2, "op.reserved");
    mark(r + 12, 4, "op.input_count");
    mark(r + 16, 4, "op.output_count");
    mark(r + 20, 4, "op.attr_size");
    mark(r + 24, 8, "op.attr_offset");
    mark(r + 32, 4 * n_in, "op.inputs");
    mark(r + 32 + 4 * n_in, 4 * n_out, "op.outputs");
    mark(r + 32 + 4 * (n_in + n_out), (n_in + n_out) % 2 ? 4 : 0, "op.padding");
    for (uint64_t a : attr_records(f, static_cast<int>(i))) {
      mark(a, 2, "attr.tag");
      mark(a + 2, 2, "attr.type");
      mark(a + 4, 4, "attr.length");
      mark(a + 8, le(f, a + 4, 4), "attr.payload");
    }
  }
  const TocEntry graph = section(f, fmt::Section::kGraph);
  mark(graph.offset, 8, "graph.name");
  mark(graph.offset + 8, 4, "graph.input_count");
  mark(graph.offset + 12, 4, "graph.output_count");
  const uint64_t ids = le(f, graph.offset + 8, 4) + le(f, graph.offset + 12, 4);
  mark(graph.offset + 16, 4 * ids, "graph.ids");
  mark(graph.offset + 16 + 4 * ids, graph.size - 16 - 4 * ids, "graph.padding");
  const TocEntry blobs = section(f, fmt::Section::kBlobs);
  mark(blobs.offset, blobs.size, "blob.padding");
  for (uint64_t r : tensor_records(f)) {
    if (f[r + fmt::kTensorFlags] & fmt::kTensorFlagConstant) {
      mark(le(f, r + fmt::kTensorBlobOffset, 8), le(f, r + fmt::kTensorBlobSize, 8), "blob.data");
    }
  }
  return c;
}

// What every damaged file must get: an error, with a byte offset; inside the blob area (which has
// no structure) it is the blob area's checksum error.
void check_damage_detected(const Bytes& f, const std::string& cls, const std::string& what) {
  auto r = parse(f);
  CAPTURE(what);
  CAPTURE(cls);
  REQUIRE_FALSE(r.ok());
  const std::string m = r.status().message();
  CAPTURE(m);
  const StatusCode code = r.status().code();
  CHECK((code == StatusCode::kDataLoss || code == StatusCode::kUnimplemented));
  CHECK(m.rfind("at byte ", 0) == 0);
  if (cls.rfind("blob.", 0) == 0) CHECK((contains(m, "blob area") && contains(m, "checksum")));
}

// What a hostile file (checksums not verified) must get: an error, or a graph that writes, reads
// back and writes again to the same bytes (the fuzz target's property).
void check_hostile(const Bytes& f, const std::string& what) {
  ReadOptions unchecked;
  unchecked.verify_checksums = unchecked.verify_blob_checksum = false;
  auto r = parse(f, unchecked);
  if (!r.ok()) {
    if (r.status().message().rfind("at byte ", 0) != 0) FAIL(what << ": " << r.status().message());
    return;
  }
  auto once = ptq::ir::serialize(*r);
  if (!once.ok()) FAIL(what << ": parsed but does not serialize: " << once.status().message());
  auto again = parse(*once);
  if (!again.ok()) FAIL(what << ": re-serialized model does not parse: " << again.status().message());
  auto twice = ptq::ir::serialize(*again);
  if (!twice.ok() || *twice != *once) FAIL(what << ": serialize(parse(x)) is not a fixpoint");
}

}  // namespace

TEST_SUITE("ir") {

TEST_CASE("format: XXH64 matches the reference vectors, in one call and streamed") {
  struct Vector {
    std::string input;
    uint64_t hash;
  };
  const Vector vectors[] = {
      {"", 0xEF46DB3751D8E999ull},
      {"a", 0xD24EC4F1A98C6E5Bull},
      {"abc", 0x44BC2CF5AD770999ull},
      {"Nobody inspects the spammish repetition", 0xFBCEA83C8A378BF1ull},  // 39 bytes: one stripe + tail
      {"The quick brown fox jumps over the lazy dog", 0x0B242D361FDA71BCull},
      {std::string(32, 'a'), 0x856E843298F99AD7ull},  // exactly one stripe
      {std::string(64, 'b'), 0xECBAF4BDF26B6349ull},  // two stripes
  };
  for (const Vector& v : vectors) {
    CAPTURE(v.input);
    CHECK(fmt::xxh64(v.input.data(), v.input.size()) == v.hash);
    for (std::size_t chunk = 1; chunk <= 33; chunk += 4) {
      fmt::Xxh64 h;
      for (std::size_t i = 0; i < v.input.size(); i += chunk) {
        h.update(v.input.data() + i, std::min(chunk, v.input.size() - i));
      }
      CHECK(h.digest() == v.hash);
    }
  }
}

TEST_CASE("format: round trip of every dtype, quantization, attribute and absent input gives an equal graph") {
  const Graph g = ptq_test::full_model();
  // The model covers what it claims to.
  int attributes_set = 0;
  const ptq::ir::Attributes defaults;
  ptq::ir::visit_attributes([&](int, const char*, const auto& x, const auto& d) { attributes_set += x == d ? 0 : 1; },
                            g.ops[3].attrs, defaults);
  CHECK(attributes_set == 34);
  std::set<int> dtypes;
  bool per_axis = false, per_tensor = false, absent = false, unnamed = false;
  for (const auto& t : g.tensors) {
    dtypes.insert(static_cast<int>(t.dtype));
    per_axis = per_axis || t.quant.is_per_axis();
    per_tensor = per_tensor || t.quant.is_per_tensor();
    unnamed = unnamed || t.name.empty();
  }
  for (const auto& op : g.ops) {
    for (auto id : op.inputs) absent = absent || id == ptq::ir::kNoTensor;
    unnamed = unnamed || op.name.empty();
  }
  CHECK(dtypes.size() == 8);
  CHECK((per_axis && per_tensor && absent && unnamed));

  const Bytes f = bytes_of(g);
  auto copied = parse(f);
  REQUIRE_MESSAGE(copied.ok(), copied.status().to_string());
  CHECK(difference(g, *copied) == "");
  CHECK(bytes_of(*copied) == f);  // deterministic, and the shared blob is shared again

  // With an owner that keeps aligned bytes alive, constants borrow from them.
  auto aligned = std::make_shared<ptq::ir::Buffer>(ptq::ir::Buffer::copy_of(f));
  auto borrowed = ptq::ir::parse_model(aligned->data(), f.size(), aligned);
  REQUIRE(borrowed.ok());
  CHECK(difference(g, *borrowed) == "");
  int constants = 0;
  for (const auto& t : borrowed->tensors) {
    if (!t.is_constant() || t.data.size() == 0) continue;
    ++constants;
    CHECK(t.data.data() >= aligned->data());
    CHECK(t.data.data() + t.data.size() <= aligned->data() + f.size());
    CHECK(reinterpret_cast<uintptr_t>(t.data.data()) % 64 == 0);
  }
  CHECK(constants == 12);
  for (const auto& t : copied->tensors) CHECK(reinterpret_cast<uintptr_t>(t.data.data()) % 64 == 0);

  for (const Graph& other : {ptq_test::tiny_model(), ptq_test::small_cnn(), ptq_test::empty_model()}) {
    auto back = parse(bytes_of(other));
    REQUIRE(back.ok());
    CHECK(difference(other, *back) == "");
  }
}

TEST_CASE("format: the layout is format.md's: header, table of contents, sections, 64-byte aligned blobs") {
  const Graph g = ptq_test::full_model();
  const Bytes f = bytes_of(g);
  CHECK(std::memcmp(f.data(), "\x89PTQ\r\n\x1a\n", 8) == 0);
  CHECK(le(f, fmt::kHeaderMajor, 2) == 1);
  CHECK(le(f, fmt::kHeaderMinor, 2) == fmt::kMinorVersion);
  CHECK(le(f, fmt::kHeaderFlags, 4) == 0);
  CHECK(le(f, fmt::kHeaderFileSize, 8) == f.size());
  CHECK(le(f, fmt::kHeaderTocOffset, 8) == 64);
  CHECK(le(f, fmt::kHeaderChecksum, 8) == header_checksum(f));
  const auto entries = toc(f);
  REQUIRE(entries.size() == 6);
  std::set<uint32_t> ids;
  for (const TocEntry& e : entries) {
    ids.insert(e.id);
    CHECK(e.end() <= f.size());
    CHECK(e.offset % (e.id == 6 ? 64 : 8) == 0);
    CHECK(e.checksum == fmt::xxh64(f.data() + e.offset, e.size));
  }
  CHECK(ids == std::set<uint32_t>{1, 2, 3, 4, 5, 6});
  CHECK(section(f, fmt::Section::kTensors).count == g.tensors.size());
  CHECK(section(f, fmt::Section::kOps).count == g.ops.size());

  // Each constant's bytes sit 64-byte aligned from the start of the file; the shared buffer once.
  const auto records = tensor_records(f);
  std::map<uint64_t, int> users;
  for (std::size_t i = 0; i < records.size(); ++i) {
    const uint64_t r = records[i];
    const auto& t = g.tensors[i];
    CHECK(f[r + fmt::kTensorDtype] == static_cast<uint8_t>(t.dtype));
    CHECK(le(f, r + fmt::kTensorRank, 4) == static_cast<uint64_t>(t.shape.rank()));
    if (!t.is_constant()) {
      CHECK(le(f, r + fmt::kTensorBlobSize, 8) == 0);
      continue;
    }
    const uint64_t at = le(f, r + fmt::kTensorBlobOffset, 8), size = le(f, r + fmt::kTensorBlobSize, 8);
    CHECK(at % 64 == 0);
    REQUIRE(size == t.data.size());
    if (size) CHECK(std::memcmp(f.data() + at, t.data.data(), size) == 0);
    if (size) users[at]++;
  }
  CHECK(users.size() == 11);  // 12 constants with bytes, two of them one Buffer
  CHECK(le(f, records[5] + fmt::kTensorBlobOffset, 8) == le(f, records[15] + fmt::kTensorBlobOffset, 8));

  // Only non-default attributes are written: none for Quantize, all 27 in tag order for op 3.
  CHECK(attr_records(f, 0).empty());
  const auto attrs = attr_records(f, 3);
  REQUIRE(attrs.size() == 34);
  for (std::size_t i = 0; i < attrs.size(); ++i) CHECK(le(f, attrs[i], 2) == i + 1);
  CHECK(le(f, attrs[0] + 2, 2) == static_cast<uint16_t>(fmt::AttrType::kInt32));
  CHECK(le(f, attrs[0] + 8, 4) == 2);  // stride_h
  CHECK(le(f, attrs[14] + 2, 2) == static_cast<uint16_t>(fmt::AttrType::kInt32Array));  // axes
  CHECK(le(f, attrs[14] + 4, 4) == 8);
  CHECK(le(f, attrs[19] + 8, 4) == float_bits(0.5f));  // beta
}

TEST_CASE("format: a newer minor version's unknown attributes and sections are skipped, this version's are errors") {
  const Graph g = ptq_test::full_model();
  const Bytes f = bytes_of(g);

  // The last attribute record of op 3 (lstm_cell_scale, tag 34) gets tag 200.
  Bytes tag = f;
  const uint64_t last = attr_records(f, 3).back();
  put(tag, last, 200, 2);
  reseal(tag);
  expect_error(tag, last, StatusCode::kDataLoss, "op 3 'every attribute' (Lstm): unknown attribute tag 200");
  put(tag, fmt::kHeaderMinor, fmt::kMinorVersion + 1, 2);
  reseal(tag);
  auto skipped = parse(tag);
  REQUIRE_MESSAGE(skipped.ok(), skipped.status().to_string());
  Graph expected = g;
  expected.ops[3].attrs.lstm_cell_scale = ptq::ir::Attributes{}.lstm_cell_scale;
  CHECK(difference(expected, *skipped) == "");

  // An unknown section (id 77).
  Bytes extra = with_extra_section(f, 77, Bytes{1, 2, 3, 4, 5});
  const uint64_t entry = le(extra, fmt::kHeaderTocOffset, 8) + 6 * fmt::kTocEntrySize;
  expect_error(extra, entry, StatusCode::kDataLoss, "unknown section id 77");
  put(extra, fmt::kHeaderMinor, fmt::kMinorVersion + 2, 2);
  reseal(extra);
  auto with_section = parse(extra);
  REQUIRE_MESSAGE(with_section.ok(), with_section.status().to_string());
  CHECK(difference(g, *with_section) == "");
  // ... whose checksum is still verified.
  extra[le(extra, entry + fmt::kTocOffset, 8)] ^= 1;
  expect_error(extra, entry + fmt::kTocChecksum, StatusCode::kDataLoss, "section id 77 [");

  // What cannot be skipped is unimplemented in a newer minor version, corrupt otherwise.
  Bytes kind = f;
  const uint64_t op1 = op_records(f)[1];
  put(kind, op1 + fmt::kOpKind, 999, 2);
  expect_error(kind, op1 + fmt::kOpKind, StatusCode::kDataLoss, "op 1 'conv' (kind 999): op kind 999 is unknown");
  put(kind, fmt::kHeaderMinor, fmt::kMinorVersion + 1, 2);
  expect_error(kind, op1 + fmt::kOpKind, StatusCode::kUnimplemented,
               "op kind 999 is unknown (the file's minor version " + std::to_string(fmt::kMinorVersion + 1));
  Bytes flags = f;
  put(flags, fmt::kHeaderFlags, 4, 4);
  expect_error(flags, fmt::kHeaderFlags, StatusCode::kDataLoss, "flags 0x0000000000000004: unknown flag bits");
  put(flags, fmt::kHeaderMinor, fmt::kMinorVersion + 1, 2);
  expect_error(flags, fmt::kHeaderFlags, StatusCode::kUnimplemented, "unknown flag bits");
  Bytes major = f;
  put(major, fmt::kHeaderMajor, 2, 2);
  expect_error(major, fmt::kHeaderMajor, StatusCode::kUnimplemented, "major version 2 is newer than this reader's 1");
}

TEST_CASE("format: errors name the byte offset and the field") {
  const Bytes f = bytes_of(ptq_test::full_model());
  const auto t = tensor_records(f);
  const auto o = op_records(f);
  const TocEntry tensors = section(f, fmt::Section::kTensors), strings = section(f, fmt::Section::kStrings),
                 ops = section(f, fmt::Section::kOps), graph = section(f, fmt::Section::kGraph),
                 blobs = section(f, fmt::Section::kBlobs);
  const auto edit = [&](auto change) {
    Bytes g = f;
    change(g);
    return g;
  };
  using SC = StatusCode;
  const uint64_t dims2 = t[2] + fmt::kTensorFixedSize;  // conv/w [4, 3, 3, 3], 4 scales along 0

  SUBCASE("header") {
    expect_error(edit([](Bytes& g) { g[3] = 'X'; }), 0, SC::kDataLoss, "magic: not a ptq model");
    expect_error(Bytes(f.begin(), f.begin() + 40), 40, SC::kDataLoss, "header: the data ends after 40 bytes");
    expect_error(edit([](Bytes& g) { put(g, 8, 0, 2); }), 8, SC::kDataLoss, "major version 0 does not exist");
    expect_error(edit([&](Bytes& g) { put(g, 16, f.size() + 1, 8); }), 16, SC::kDataLoss,
                 "file_size = " + std::to_string(f.size() + 1) + " but the data is " + std::to_string(f.size()) +
                     " bytes (truncated or extended)");
    expect_error(edit([](Bytes& g) { g[45] = 1; }), 45, SC::kDataLoss, "header: reserved byte is not zero");
    expect_error(edit([](Bytes& g) { put(g, 24, 68, 8); }), 24, SC::kDataLoss,
                 "toc_offset = 68 is not a multiple of 8");
    expect_error(edit([](Bytes& g) { put(g, 32, 100, 8); }), 32, SC::kDataLoss,
                 "toc_size = 100 is not a multiple of 32");
    expect_error(edit([](Bytes& g) { put(g, 56, le(g, 56, 8) ^ 1, 8); }), 56, SC::kDataLoss,
                 "header checksum: stored ");
  }
  SUBCASE("table of contents") {
    expect_error(edit([&](Bytes& g) { put(g, ops.at, 2, 4); }), ops.at, SC::kDataLoss,
                 "table of contents entry 2 (tensor table): a second tensor table");
    expect_error(edit([&](Bytes& g) { put(g, ops.at + 8, tensors.offset, 8); }), tensors.at + 8, SC::kDataLoss,
                 "table of contents entry 1 (tensor table) [" + std::to_string(tensors.offset) + ", " +
                     std::to_string(tensors.end()) + ") overlaps table of contents entry 2 (op table)");
    expect_error(edit([&](Bytes& g) {
                   put(g, blobs.at + 8, blobs.offset + 8, 8);
                   put(g, blobs.at + 16, blobs.size - 8, 8);
                 }),
                 blobs.at + 8, SC::kDataLoss,
                 "(blob area): offset " + std::to_string(blobs.offset + 8) + " is not a multiple of 64");
    expect_error(edit([&](Bytes& g) { put(g, strings.at + 16, f.size(), 8); }), strings.at + 8, SC::kDataLoss,
                 "run past the end of the file");
    expect_error(edit([&](Bytes& g) { put(g, strings.at + 4, 3, 4); }), strings.at + 4, SC::kDataLoss,
                 "(string table): count = 3, must be 0");
    expect_error(edit([&](Bytes& g) { put(g, tensors.at + 4, 0xFFFFFFFFu, 4); }), tensors.at + 4, SC::kDataLoss,
                 "tensor table: 4294967295 tensors need at least 171798691800 bytes, the table has " +
                     std::to_string(tensors.size));
    expect_error(edit([&](Bytes& g) { put(g, ops.at + 4, 0x10000000u, 4); }), ops.at + 4, SC::kDataLoss,
                 "op table: 268435456 ops need at least");
    // Alignment padding between sections (which one depends on the names' lengths).
    const auto classes = byte_classes(f);
    const auto gap = static_cast<uint64_t>(std::find(classes.begin(), classes.end(), "padding") - classes.begin());
    REQUIRE(gap < f.size());
    expect_error(edit([&](Bytes& g) { g[gap] = 7; }), gap, SC::kDataLoss, "padding before table of contents entry ");
    expect_error(edit([&](Bytes& g) { g[strings.offset] ^= 0x20; }), strings.at + fmt::kTocChecksum, SC::kDataLoss,
                 "string table [" + std::to_string(strings.offset) + ", " + std::to_string(strings.end()) +
                     "): checksum: stored ");
    Bytes weights = edit([&](Bytes& g) { g[blobs.offset + 1] ^= 0x80; });
    expect_error(weights, blobs.at + fmt::kTocChecksum, SC::kDataLoss, "blob area [");
    ReadOptions lazy;
    lazy.verify_blob_checksum = false;
    CHECK(parse(weights, lazy).ok());
  }
  SUBCASE("tensors") {
    expect_error(edit([&](Bytes& g) { put(g, dims2 + 16, static_cast<uint64_t>(-3), 8); }), dims2 + 16, SC::kDataLoss,
                 "tensor 2 'conv/w': shape dim 2 = -3 is negative");
    expect_error(edit([&](Bytes& g) { g[t[2] + fmt::kTensorDtype] = 99; }), t[2] + fmt::kTensorDtype, SC::kDataLoss,
                 "tensor 2 'conv/w': dtype 99 is not a known dtype (0 to 7)");
    expect_error(edit([&](Bytes& g) {
                   put(g, t[5] + 40, uint64_t{1} << 62, 8);
                   put(g, t[5] + 48, 4, 8);
                 }),
                 t[5] + 48, SC::kDataLoss,
                 "tensor 5 'fc/w': shape [4611686018427387904, 4] has more than 2^63 - 1 elements (overflow at dim 1)");
    expect_error(edit([&](Bytes& g) {
                   put(g, t[5] + 40, uint64_t{1} << 61, 8);
                   put(g, t[5] + 48, 2, 8);
                 }),
                 t[5] + 40, SC::kDataLoss,
                 "tensor 5 'fc/w': shape [2305843009213693952, 2] of float32 is more than 2^63 - 1 bytes");
    expect_error(edit([&](Bytes& g) { put(g, t[5] + 40, 4, 8); }), t[5] + fmt::kTensorBlobSize, SC::kDataLoss,
                 "tensor 5 'fc/w': constant data is 720 bytes, but float32 [4, 36] takes 576");
    expect_error(edit([&](Bytes& g) { put(g, dims2, 3, 8); }), t[2] + fmt::kTensorScaleCount, SC::kDataLoss,
                 "tensor 2 'conv/w': quantization has 4 scales along axis 0 of size 3 (needs 1 or 3)");
    expect_error(edit([&](Bytes& g) { put(g, t[2] + fmt::kTensorAxis, 4, 4); }), t[2] + fmt::kTensorAxis,
                 SC::kDataLoss, "tensor 2 'conv/w': quantization axis 4 is outside [0, 4) of shape [4, 3, 3, 3]");
    expect_error(edit([&](Bytes& g) { put(g, t[1] + fmt::kTensorAxis, 2, 4); }), t[1] + fmt::kTensorAxis,
                 SC::kDataLoss, "tensor 1 'input/q': quantization axis = 2 but the quantization is not per axis");
    const uint64_t zp1 = t[1] + 40 + 8 * 4 + 4;  // rank 4, one scale
    expect_error(edit([&](Bytes& g) { put(g, zp1, static_cast<uint32_t>(-129), 4); }), zp1, SC::kDataLoss,
                 "tensor 1 'input/q': quantization zero point 0 = -129 is outside int8's [-128, 127]");
    const uint64_t scale1 = t[3] + 40 + 8 + 4;  // conv/b: rank 1, scale 1
    expect_error(edit([&](Bytes& g) { put(g, scale1, float_bits(-1.0f), 4); }), scale1, SC::kDataLoss,
                 "tensor 3 'conv/b': quantization scale 1 = -1 is not a finite non-negative number");
    expect_error(edit([&](Bytes& g) { put(g, scale1, 0x7FC00000u, 4); }), scale1, SC::kDataLoss,
                 "quantization scale 1 = nan is not a finite non-negative number");
    expect_error(edit([&](Bytes& g) { g[t[2] + fmt::kTensorFlags] |= 0x80; }), t[2] + fmt::kTensorFlags,
                 SC::kDataLoss, "tensor 2 'conv/w': unknown flag bits in 0x0000000000000083");
    expect_error(edit([&](Bytes& g) { g[t[0] + fmt::kTensorFlags] = fmt::kTensorFlagPerAxis; }),
                 t[0] + fmt::kTensorFlags, SC::kDataLoss,
                 "tensor 0 'input': quantization is per axis but has no scales");
    const uint64_t blob2 = le(f, t[2] + fmt::kTensorBlobOffset, 8);
    expect_error(edit([&](Bytes& g) { put(g, t[2] + fmt::kTensorBlobOffset, blob2 + 8, 8); }),
                 t[2] + fmt::kTensorBlobOffset, SC::kDataLoss,
                 "tensor 2 'conv/w': constant data [" + std::to_string(blob2 + 8) + ", " +
                     std::to_string(blob2 + 8 + 108) + ") is not a 64-byte aligned range inside the blob area");
    expect_error(edit([&](Bytes& g) { put(g, t[2] + fmt::kTensorBlobOffset, blobs.end(), 8); }),
                 t[2] + fmt::kTensorBlobOffset, SC::kDataLoss, "inside the blob area");
    expect_error(edit([&](Bytes& g) { put(g, t[0] + fmt::kTensorBlobSize, 4, 8); }), t[0] + fmt::kTensorBlobOffset,
                 SC::kDataLoss, "tensor 0 'input': not a constant, but has data [0, 4)");
    expect_error(edit([&](Bytes& g) { put(g, t[0], 0xFFFFFF00u, 4); }), t[0], SC::kDataLoss,
                 "tensor 0: name [4294967040, 4294967045) is outside the string table");
    expect_error(edit([&](Bytes& g) {
                   for (uint64_t r : t) put(g, r + 4, strings.size, 4), put(g, r, 0, 4);
                 }),
                 t[1] + 4, SC::kDataLoss, "(names may not share bytes)");
    expect_error(edit([&](Bytes& g) { put(g, t[0] + fmt::kTensorRank, 0x40000000u, 4); }), t[0] + fmt::kTensorRank,
                 SC::kDataLoss, "rank 1073741824 and 0 scales need");
    expect_error(edit([&](Bytes& g) { put(g, t[1] + fmt::kTensorReserved, 1, 2); }), t[1] + fmt::kTensorReserved,
                 SC::kDataLoss, "reserved field is not zero");
  }
  SUBCASE("ops and attributes") {
    const uint64_t ids1 = o[1] + fmt::kOpFixedSize;  // conv: inputs {1, 2, 3}, outputs {4}
    expect_error(edit([&](Bytes& g) { put(g, ids1, 1000, 4); }), ids1, SC::kDataLoss,
                 "op 1 'conv' (Conv2D): input 0 = 1000 is neither a tensor (the graph has 18) nor -1 (absent)");
    expect_error(edit([&](Bytes& g) { put(g, ids1 + 12, static_cast<uint32_t>(-1), 4); }), ids1 + 12,
                 SC::kDataLoss, "op 1 'conv' (Conv2D): output 0 = -1 is not a tensor (the graph has 18)");
    expect_error(edit([&](Bytes& g) { put(g, o[2] + fmt::kOpInputCount, 0x7FFFFFFF, 4); }), o[2] + fmt::kOpInputCount,
                 SC::kDataLoss, "op 2 (FullyConnected): 2147483647 inputs and 1 outputs need");
    expect_error(edit([&](Bytes& g) { put(g, o[1] + fmt::kOpReserved, 5, 2); }), o[1] + fmt::kOpReserved,
                 SC::kDataLoss, "op 1 'conv' (Conv2D): reserved field is not zero");
    const uint64_t pad3 = o[3] + fmt::kOpFixedSize + 4 * 13;  // 12 inputs + 1 output
    expect_error(edit([&](Bytes& g) { g[pad3 + 1] = 1; }), pad3 + 1, SC::kDataLoss,
                 "op 3 'every attribute' (Lstm): record padding is not zero");
    expect_error(edit([&](Bytes& g) { put(g, o[1] + fmt::kOpAttrOffset, 0xFFFFFFFFull, 8); }),
                 o[1] + fmt::kOpAttrOffset, SC::kDataLoss, "are outside the attribute section");
    expect_error(edit([&](Bytes& g) {  // op 2 refers to op 3's attributes too
                   put(g, o[2] + fmt::kOpAttrOffset, le(f, o[3] + fmt::kOpAttrOffset, 8), 8);
                   put(g, o[2] + fmt::kOpAttrSize, le(f, o[3] + fmt::kOpAttrSize, 4), 4);
                 }),
                 o[3] + fmt::kOpAttrSize, SC::kDataLoss, "(ops may not share attribute bytes)");
    const auto a1 = attr_records(f, 1);  // conv: stride_h, stride_w, padding, activation
    REQUIRE(a1.size() == 4);
    expect_error(edit([&](Bytes& g) { put(g, a1[0] + 2, 3, 2); }), a1[0] + 2, SC::kDataLoss,
                 "op 1 'conv' (Conv2D): attribute 'stride_h' (tag 1): type 3 (float32), expected int32");
    expect_error(edit([&](Bytes& g) { put(g, a1[0] + 2, 99, 2); }), a1[0] + 2, SC::kDataLoss,
                 "type 99 (unknown type), expected int32");
    expect_error(edit([&](Bytes& g) { g[a1[2] + 8] = 9; }), a1[2] + 8, SC::kDataLoss,
                 "attribute 'padding' (tag 7): value 9 is not a known Padding");
    expect_error(edit([&](Bytes& g) { g[a1[3] + 8] = 4; }), a1[3] + 8, SC::kDataLoss,
                 "attribute 'activation' (tag 9): value 4 is not a known FusedActivation");
    expect_error(edit([&](Bytes& g) { put(g, a1[1], 1, 2); }), a1[1], SC::kDataLoss,
                 "attribute tag 1 after tag 1 (tags must increase)");
    expect_error(edit([&](Bytes& g) { put(g, a1[0] + 4, 1000, 4); }), a1[0] + 4, SC::kDataLoss,
                 "attribute tag 1: length 1000 runs past the op's attributes");
    const auto a2 = attr_records(f, 2);  // fc: keep_num_dims
    REQUIRE(a2.size() == 1);
    expect_error(edit([&](Bytes& g) { g[a2[0] + 8] = 2; }), a2[0] + 8, SC::kDataLoss,
                 "op 2 (FullyConnected): attribute 'keep_num_dims' (tag 10): value 2 is not a bool (0 or 1)");
    const auto a3 = attr_records(f, 3);
    expect_error(edit([&](Bytes& g) { put(g, a3[14] + 4, 7, 4); }), a3[14] + 4, SC::kDataLoss,
                 "attribute 'axes' (tag 15): length 7, not a multiple of 4");
    expect_error(edit([&](Bytes& g) { g[a3[25] + 8] = 3; }), a3[25] + 8, SC::kDataLoss,
                 "attribute 'recurrent_activation' (tag 26): value 3 is not a known RecurrentActivation");
  }
  SUBCASE("graph") {
    const uint64_t ids = graph.offset + fmt::kGraphFixedSize;  // inputs {0}, outputs {17, 6}
    expect_error(edit([&](Bytes& g) { put(g, ids + 4, 99, 4); }), ids + 4, SC::kDataLoss,
                 "graph output 0 = 99 is not a tensor (the model has 18)");
    expect_error(edit([&](Bytes& g) { put(g, graph.offset + fmt::kGraphInputCount, 5, 4); }),
                 graph.offset + fmt::kGraphInputCount, SC::kDataLoss,
                 "graph section: 5 inputs and 2 outputs take 48 bytes");
    expect_error(edit([&](Bytes& g) { g[ids + 13] = 1; }), ids + 13, SC::kDataLoss,
                 "graph section: padding is not zero");
  }
}

TEST_CASE("format: serialize rejects a graph the reader would reject, naming the tensor or op") {
  const auto expect_rejected = [](const Graph& g, const std::string& text) {
    auto r = ptq::ir::serialize(g);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == StatusCode::kInvalidArgument);
    CHECK(r.status().message() == "serialize: " + text);
  };
  Graph g = ptq_test::full_model();
  {
    Graph h = g;
    h.tensors[2].shape[2] = -3;
    expect_rejected(h, "tensor 2 'conv/w': shape dim 2 = -3 is negative");
  }
  {
    Graph h = g;
    h.tensors[5].shape = {4, 36};
    expect_rejected(h, "tensor 5 'fc/w': constant data is 720 bytes, but float32 [4, 36] takes 576");
  }
  {
    Graph h = g;
    h.tensors[2].quant.zero_points.pop_back();
    expect_rejected(h, "tensor 2 'conv/w': quantization has 4 scales but 3 zero points");
  }
  {
    Graph h = g;
    h.tensors[2].quant.axis = 3;
    expect_rejected(h, "tensor 2 'conv/w': quantization has 4 scales along axis 3 of size 3 (needs 1 or 3)");
  }
  {
    Graph h = g;
    h.tensors[0].quant.per_axis = true;
    expect_rejected(h, "tensor 0 'input': quantization is per axis but has no scales");
  }
  {
    Graph h = g;
    h.tensors[8].quant.zero_points[0] = 256;
    expect_rejected(h, "tensor 8 'u8': quantization zero point 0 = 256 is outside uint8's [0, 255]");
  }
  {
    Graph h = g;
    h.tensors[1].dtype = static_cast<ptq::DType>(42);
    expect_rejected(h, "tensor 1 'input/q': dtype 42 is not a known dtype (0 to 7)");
  }
  {
    Graph h = g;
    h.ops[1].inputs[2] = 18;
    expect_rejected(h, "op 1 'conv' (Conv2D): input 2 = 18 is neither a tensor (the graph has 18) nor -1 (absent)");
  }
  {
    Graph h = g;
    h.ops[2].outputs[0] = ptq::ir::kNoTensor;
    expect_rejected(h, "op 2 (FullyConnected): output 0 = -1 is not a tensor (the graph has 18)");
  }
  {
    Graph h = g;
    h.ops[0].kind = static_cast<ptq::ir::OpKind>(5);
    expect_rejected(h, "op 0 'quantize' (kind 5): op kind 5 is unknown");
  }
  {
    Graph h = g;
    h.ops[1].attrs.padding = static_cast<ptq::Padding>(7);
    expect_rejected(h, "op 1 'conv' (Conv2D): attribute 'padding' (tag 7): value 7 is not a known Padding");
  }
  {
    Graph h = g;
    h.outputs.push_back(-2);
    expect_rejected(h, "graph output 2 = -2 is not a tensor (the graph has 18)");
  }
}

TEST_CASE("format: every bit flip at every offset class of real files is an error with a byte offset") {
  // Real files of three shapes; every byte classified (header fields, TOC fields, string table,
  // tensor/op record fields, attribute records, graph section, padding, blob data and padding).
  // Every single-bit flip must fail with "at byte N:"; inside the blob area it is the blob
  // checksum. With checksums off (a hostile file), a flip either fails or gives a graph that
  // serializes to a fixpoint.
  std::set<std::string> seen;
  for (const Graph& g : {ptq_test::full_model(), ptq_test::small_cnn(), ptq_test::tiny_model()}) {
    const Bytes f = bytes_of(g);
    const auto classes = byte_classes(f);
    for (std::size_t at = 0; at < f.size(); ++at) {
      seen.insert(classes[at]);
      // Every bit of structured bytes; one (rotating) bit of bytes without structure.
      const bool opaque = classes[at] == "blob.data" || classes[at] == "strings";
      for (int bit = 0; bit < 8; ++bit) {
        if (opaque && bit != static_cast<int>(at % 8)) continue;
        Bytes damaged = f;
        damaged[at] ^= static_cast<uint8_t>(1u << bit);
        const std::string what = g.name + ": byte " + std::to_string(at) + " bit " + std::to_string(bit);
        check_damage_detected(damaged, classes[at], what);
        if (bit == static_cast<int>(at % 8) || (!ptq_test::kSanitized && bit == static_cast<int>((at + 4) % 8))) {
          check_hostile(damaged, what);
        }
      }
    }
  }
  const std::set<std::string> expected = {
      "header.magic", "header.major", "header.minor", "header.flags", "header.file_size", "header.toc_offset",
      "header.toc_size", "header.reserved", "header.checksum", "toc.id", "toc.count", "toc.offset", "toc.size",
      "toc.checksum", "strings", "tensor.name_offset", "tensor.name_length", "tensor.dtype", "tensor.flags",
      "tensor.reserved", "tensor.rank", "tensor.scale_count", "tensor.axis", "tensor.blob_offset",
      "tensor.blob_size", "tensor.dims", "tensor.scales", "tensor.zero_points", "op.name_offset",
      "op.name_length", "op.kind", "op.reserved", "op.input_count", "op.output_count", "op.attr_size",
      "op.attr_offset", "op.inputs", "op.outputs", "op.padding", "attr.tag", "attr.type", "attr.length",
      "attr.payload", "graph.name", "graph.input_count", "graph.output_count", "graph.ids", "graph.padding",
      "padding", "blob.padding", "blob.data"};
  CHECK(seen == expected);
}

TEST_CASE("format: truncated and extended files are errors with a byte offset") {
  for (const Graph& g :
       {ptq_test::full_model(), ptq_test::small_cnn(), ptq_test::tiny_model(), ptq_test::empty_model()}) {
    const Bytes f = bytes_of(g);
    CAPTURE(g.name);
    for (std::size_t n = 0; n < f.size(); ++n) {
      CAPTURE(n);
      Bytes cut(f.begin(), f.begin() + static_cast<std::ptrdiff_t>(n));
      check_damage_detected(cut, "", "truncated");
      // The same cut with a header that agrees (file_size and checksum fixed up): the sections
      // themselves must be found short.
      if (n >= fmt::kHeaderSize) {
        put(cut, fmt::kHeaderFileSize, n, 8);
        if (le(cut, fmt::kHeaderTocOffset, 8) + le(cut, fmt::kHeaderTocSize, 8) <= n) {
          put(cut, fmt::kHeaderChecksum, header_checksum(cut), 8);
        }
        check_damage_detected(cut, "", "truncated, header fixed up");
        check_hostile(cut, "truncated to " + std::to_string(n));
      }
    }
    for (std::size_t extra : {1, 7, 8, 63, 64, 65, 4096}) {
      CAPTURE(extra);
      for (uint8_t fill : {0, 0xA5}) {
        Bytes longer = f;
        longer.insert(longer.end(), extra, fill);
        check_damage_detected(longer, "", "extended");
        put(longer, fmt::kHeaderFileSize, longer.size(), 8);
        put(longer, fmt::kHeaderChecksum, header_checksum(longer), 8);
        auto r = parse(longer);
        REQUIRE_FALSE(r.ok());
        CHECK(r.status().message() == "at byte " + std::to_string(f.size()) + ": " + std::to_string(extra) +
                                          " bytes after the end of the last section");
      }
    }
  }
}

TEST_CASE("format: load_model maps the file and constants borrow from the mapping, which they keep alive") {
  TempDir dir;
  const std::string path = dir / "model.ptq";
  const Graph g = ptq_test::full_model();
  REQUIRE(ptq::ir::save_model(g, path).ok());
  const Bytes f = read_file(path);
  CHECK(f == bytes_of(g));

  auto missing = ptq::ir::load_model(dir / "absent.ptq");
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.status().code() == StatusCode::kNotFound);
  CHECK(contains(missing.status().message(), "absent.ptq"));

  ptq::ir::Buffer kept;
  {
    auto loaded = ptq::ir::load_model(path);
    REQUIRE_MESSAGE(loaded.ok(), loaded.status().to_string());
    CHECK(difference(g, *loaded) == "");
#if defined(__linux__)
    // The constants point into a read-only mapping of this file, at their offset in it.
    std::ifstream maps("/proc/self/maps");
    std::string line;
    uintptr_t begin = 0, end = 0;
    while (std::getline(maps, line)) {
      if (line.size() < path.size() || line.compare(line.size() - path.size(), path.size(), path) != 0) continue;
      std::istringstream in(line);
      char dash;
      std::string perms;
      in >> std::hex >> begin >> dash >> end >> perms;
      CHECK(perms.substr(0, 2) == "r-");
    }
    REQUIRE(begin != 0);
    const auto records = tensor_records(f);
    for (std::size_t i = 0; i < records.size(); ++i) {
      const auto& t = loaded->tensors[i];
      if (!t.is_constant() || t.data.size() == 0) continue;
      const auto p = reinterpret_cast<uintptr_t>(t.data.data());
      CHECK(p >= begin);
      CHECK(p + t.data.size() <= end);
      CHECK(p - begin == le(f, records[i] + fmt::kTensorBlobOffset, 8));
      CHECK(p % 64 == 0);
    }
#endif
    kept = loaded->tensors[2].data;
  }
  // The graph is gone; the buffer still reads the file's bytes, even after the file is replaced.
  REQUIRE(ptq::ir::save_model(ptq_test::tiny_model(), path).ok());
  CHECK(std::memcmp(kept.data(), g.tensors[2].data.data(), kept.size()) == 0);
  kept = ptq::ir::Buffer();
  auto tiny = ptq::ir::load_model(path);
  REQUIRE(tiny.ok());
  CHECK(difference(ptq_test::tiny_model(), *tiny) == "");

  // An empty file and a directory are errors, not crashes.
  write_file(dir / "empty.ptq", {});
  auto empty = ptq::ir::load_model(dir / "empty.ptq");
  REQUIRE_FALSE(empty.ok());
  CHECK(empty.status().code() == StatusCode::kDataLoss);
  CHECK(contains(empty.status().message(), "empty.ptq': at byte 0: magic"));
  CHECK_FALSE(ptq::ir::load_model(dir.path()).ok());
}

TEST_CASE("format: save_model replaces a file atomically and leaves nothing behind on failure") {
  TempDir dir;
  const std::string path = dir / "model.ptq";
  const Bytes old_bytes = bytes_of(ptq_test::tiny_model());
  const Graph bigger = ptq_test::full_model();
  const auto reset = [&] {
    write_file(path, old_bytes);
    REQUIRE(::chmod(path.c_str(), 0640) == 0);
  };
  const auto unchanged = [&](const ptq::Status& s) {
    CHECK_FALSE(s.ok());
    CHECK(s.code() == StatusCode::kIo);
    CHECK(contains(s.message(), "save_model '" + path + "'"));
    CHECK(read_file(path) == old_bytes);
    CHECK(TempDir::list(dir.path()) == std::vector<std::string>{"model.ptq"});
  };

  SUBCASE("success: the new bytes, the old permissions, no temporary") {
    reset();
    REQUIRE(ptq::ir::save_model(bigger, path).ok());
    CHECK(read_file(path) == bytes_of(bigger));
    struct stat st;
    REQUIRE(::stat(path.c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0640);
    CHECK(TempDir::list(dir.path()) == std::vector<std::string>{"model.ptq"});
  }
  SUBCASE("a write fails midway (file size limit): the old file stays, the temporary is removed") {
    reset();
    struct rlimit old_limit;
    REQUIRE(::getrlimit(RLIMIT_FSIZE, &old_limit) == 0);
    struct rlimit limit = old_limit;
    limit.rlim_cur = 1024;  // the new file is 3.6 KB
    void (*old_handler)(int) = ::signal(SIGXFSZ, SIG_IGN);
    REQUIRE(::setrlimit(RLIMIT_FSIZE, &limit) == 0);
    const ptq::Status s = ptq::ir::save_model(bigger, path);
    REQUIRE(::setrlimit(RLIMIT_FSIZE, &old_limit) == 0);
    ::signal(SIGXFSZ, old_handler);
    CAPTURE(s.message());
    unchanged(s);
    CHECK(contains(s.message(), "cannot write"));
  }
  SUBCASE("the directory is read-only") {
    reset();
    REQUIRE(::chmod(dir.path().c_str(), 0555) == 0);
    const std::string probe = dir / "probe";
    if (FILE* p = std::fopen(probe.c_str(), "w")) {  // root ignores permissions
      std::fclose(p);
      ::unlink(probe.c_str());
      ::chmod(dir.path().c_str(), 0755);
      MESSAGE("skipped: this process writes into read-only directories (root); the file size limit case covers it");
      return;
    }
    const ptq::Status s = ptq::ir::save_model(bigger, path);
    REQUIRE(::chmod(dir.path().c_str(), 0755) == 0);
    unchanged(s);
  }
  SUBCASE("the target is a directory: rename fails, the temporary is removed") {
    const std::string sub = dir / "model.ptq";
    REQUIRE(::mkdir(sub.c_str(), 0755) == 0);
    write_file(sub + "/inside", {1, 2, 3});
    const ptq::Status s = ptq::ir::save_model(bigger, sub);
    CHECK_FALSE(s.ok());
    CHECK(contains(s.message(), "cannot rename"));
    CHECK(TempDir::list(dir.path()) == std::vector<std::string>{"model.ptq"});
    CHECK(TempDir::list(sub) == std::vector<std::string>{"inside"});
  }
  SUBCASE("the directory does not exist") {
    const ptq::Status s = ptq::ir::save_model(bigger, dir / "missing/model.ptq");
    CHECK_FALSE(s.ok());
    CHECK(contains(s.message(), "cannot create the temporary file"));
    CHECK(TempDir::list(dir.path()).empty());
  }
  SUBCASE("an invalid graph is refused before any file is touched") {
    reset();
    Graph bad = bigger;
    bad.tensors[0].shape[0] = -1;
    const ptq::Status s = ptq::ir::save_model(bad, path);
    CHECK(s.code() == StatusCode::kInvalidArgument);
    CHECK(read_file(path) == old_bytes);
    CHECK(TempDir::list(dir.path()) == std::vector<std::string>{"model.ptq"});
  }
}

TEST_CASE("format: load_model of a large model (checksum cost)") {
  // 50 MB of weights (5 MB in sanitized builds); timings are reported, not asserted.
  const std::size_t total = ptq_test::kSanitized ? (5u << 20) : (50u << 20);
  Graph g;
  g.name = "large";
  const std::size_t per = total / 10;
  for (int i = 0; i < 10; ++i) {
    ptq::ir::Tensor t;
    t.name = "w" + std::to_string(i);
    t.dtype = ptq::DType::kInt8;
    t.shape = {static_cast<int64_t>(per / 1024), 1024};
    t.quant = ptq::ir::Quantization::per_tensor(0.01f, 0);
    t.data = ptq::ir::Buffer::allocate(t.byte_size());
    std::memset(t.data.mutable_data(), i + 1, t.data.size());
    g.add_tensor(std::move(t));
  }
  TempDir dir;
  const std::string path = dir / "large.ptq";
  using clock = std::chrono::steady_clock;
  const auto ms = [](clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); };

  auto t0 = clock::now();
  REQUIRE(ptq::ir::save_model(g, path).ok());
  const double save_ms = ms(clock::now() - t0);

  // Wall time, and process CPU time (std::clock: user + system, which includes the kernel paging
  // the mapping in), since a shared machine stretches wall time.
  double best_full = 1e30, best_lazy = 1e30, best_full_cpu = 1e30;
  for (int rep = 0; rep < 5; ++rep) {
    const std::clock_t c0 = std::clock();
    t0 = clock::now();
    auto full = ptq::ir::load_model(path);
    best_full = std::min(best_full, ms(clock::now() - t0));
    best_full_cpu = std::min(best_full_cpu, 1000.0 * static_cast<double>(std::clock() - c0) / CLOCKS_PER_SEC);
    REQUIRE(full.ok());
    CHECK(full->tensors[9].data.data()[per - 1] == 10);
    ReadOptions lazy;
    lazy.verify_blob_checksum = false;
    t0 = clock::now();
    auto unchecked = ptq::ir::load_model(path, lazy);
    best_lazy = std::min(best_lazy, ms(clock::now() - t0));
    REQUIRE(unchecked.ok());
  }
  const Bytes big(total, 0x5A);
  double hash_ms = 1e30;
  for (int rep = 0; rep < 5; ++rep) {
    t0 = clock::now();
    const uint64_t h = fmt::xxh64(big.data(), big.size());
    hash_ms = std::min(hash_ms, ms(clock::now() - t0));
    CHECK(h != 0);
  }
  MESSAGE("model " << total / (1 << 20) << " MB: save_model " << save_ms << " ms; load_model " << best_full
                   << " ms wall, " << best_full_cpu << " ms CPU (all checksums), " << best_lazy
                   << " ms (blob checksum skipped); XXH64 in memory " << hash_ms << " ms = "
                   << total / hash_ms / 1e6 << " GB/s");
}

TEST_CASE("format: the fuzz seed corpus parses") {
  int files = 0;
  for (const std::string& name : TempDir::list(PTQ_FUZZ_CORPUS_DIR)) {
    CAPTURE(name);
    const Bytes f = read_file(std::string(PTQ_FUZZ_CORPUS_DIR) + "/" + name);
    auto r = parse(f);
    CHECK_MESSAGE(r.ok(), r.status().to_string());
    ++files;
  }
  CHECK(files >= 3);
}

}  // TEST_SUITE
