// The ptq command-line tool (tools/ptq) run as a process: each command on the bundled Fashion-MNIST
// model, and each error a person can make, checking exit codes, messages and that nothing is left
// behind on failure.
#include <doctest/doctest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "io/tflite_test_util.hpp"  // hand-made one-op .tflite files
#include "ptq/io/npy.hpp"
#include "ptq/ir/format.hpp"

namespace {

const std::string kCli = PTQ_CLI_PATH;
const std::string kModels = PTQ_MODELS_DIR;

struct Run {
  int code = -1;
  std::string out;  // stdout and stderr together
};

// Runs `ptq ARGS` (ARGS already quoted as the shell needs) and captures what it prints.
Run run_ptq(const std::string& args) {
  Run r;
  const std::string command = "'" + kCli + "' " + args + " 2>&1";
  std::FILE* p = ::popen(command.c_str(), "r");
  REQUIRE(p != nullptr);
  char buf[4096];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
  const int status = ::pclose(p);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

bool exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

// A fresh directory under the build's temporary area, removed with its files.
struct TempDir {
  std::string path;
  TempDir() {
    char tmpl[] = "/tmp/ptq_cli_test_XXXXXX";
    const char* p = ::mkdtemp(tmpl);
    REQUIRE(p != nullptr);
    path = p;
  }
  ~TempDir() { (void)std::system(("rm -rf '" + path + "'").c_str()); }
  std::string operator/(const std::string& name) const { return path + "/" + name; }
  // Files in the directory (to check that a failure left nothing).
  int count() const {
    const std::string cmd = "ls -A '" + path + "' | wc -l";
    std::FILE* p = ::popen(cmd.c_str(), "r");
    int n = -1;
    if (p) {
      if (std::fscanf(p, "%d", &n) != 1) n = -1;
      ::pclose(p);
    }
    return n;
  }
};

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

void write_bytes(const std::string& path, const std::vector<uint8_t>& bytes, std::size_t n) {
  std::ofstream f(path, std::ios::binary);
  f.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(std::min(n, bytes.size())));
}

std::string quoted(const std::string& s) { return "'" + s + "'"; }

}  // namespace

TEST_SUITE("cli") {

TEST_CASE("cli: help, version and usage errors exit 0 and 2") {
  Run h = run_ptq("--help");
  CHECK(h.code == 0);
  CHECK(contains(h.out, "convert MODEL -o OUT"));
  for (const char* c : {"convert", "eval", "inspect", "bench"}) {
    Run r = run_ptq(std::string(c) + " --help");
    CHECK_MESSAGE(r.code == 0, c);
    CHECK_MESSAGE(contains(r.out, std::string("usage: ptq ") + c), c);
  }
  CHECK(contains(run_ptq("--version").out, "ptq 0."));
  Run none = run_ptq("");
  CHECK(none.code == 2);
  Run unknown = run_ptq("frobnicate");
  CHECK(unknown.code == 2);
  CHECK(contains(unknown.out, "unknown command 'frobnicate'"));
  Run bad_mode = run_ptq("convert m.onnx -o x.ptq --mode int4");
  CHECK(bad_mode.code == 2);
  CHECK(contains(bad_mode.out, "--mode takes weights, dynamic, int8, float16 or uint8, not 'int4'"));
  Run no_out = run_ptq("convert m.onnx");
  CHECK(no_out.code == 2);
  CHECK(contains(no_out.out, "-o OUT is required"));
  Run bad_opt = run_ptq("inspect m.ptq --colour");
  CHECK(bad_opt.code == 2);
  CHECK(contains(bad_opt.out, "unknown option '--colour'"));
  Run calib_dyn = run_ptq("convert m.onnx -o x.ptq --mode dynamic --calib c.npy");
  CHECK(calib_dyn.code == 2);
  CHECK(contains(calib_dyn.out, "need --mode int8 or uint8"));
}

TEST_CASE("cli: convert, inspect, eval and bench on the bundled CNN") {
  TempDir dir;
  const std::string model = quoted(kModels + "/cnn.onnx");
  Run c = run_ptq("convert " + model + " -o " + quoted(dir / "cnn_int8.ptq") + " --mode int8 --calib " +
              quoted(kModels + "/calib_100.npy") + " --calib-count 50");
  REQUIRE_MESSAGE(c.code == 0, c.out);
  CHECK(contains(c.out, "calibration: 50 samples, minmax"));
  CHECK(contains(c.out, "int8"));
  auto g = ptq::ir::load_model(dir / "cnn_int8.ptq");
  REQUIRE_MESSAGE(g.ok(), g.status().to_string());
  CHECK(g->tensor(g->inputs[0]).dtype == ptq::DType::kFloat32);

  Run d = run_ptq("convert " + model + " -o " + quoted(dir / "cnn_dynamic.ptq"));
  REQUIRE_MESSAGE(d.code == 0, d.out);
  CHECK(contains(d.out, "hybrid"));

  Run i = run_ptq("inspect " + quoted(dir / "cnn_int8.ptq"));
  REQUIRE_MESSAGE(i.code == 0, i.out);
  CHECK(contains(i.out, "tensors:"));
  CHECK(contains(i.out, "(Conv2D)"));
  CHECK(contains(i.out, "int8"));
  CHECK(contains(i.out, "scale "));

  Run e = run_ptq("eval " + model + " " + quoted(dir / "cnn_int8.ptq") + " --data " + quoted(kModels + "/eval_2000.npy") +
              " --labels " + quoted(kModels + "/eval_labels_2000.npy") + " --count 100 --json " + quoted(dir / "r.json") +
              " --svg " + quoted(dir / "r.svg"));
  REQUIRE_MESSAGE(e.code == 0, e.out);
  CHECK(contains(e.out, "top-1"));
  std::ifstream json(dir / "r.json");
  const std::string j((std::istreambuf_iterator<char>(json)), std::istreambuf_iterator<char>());
  CHECK(contains(j, "\"samples\": 100"));
  CHECK(exists(dir / "r.svg"));

  Run b = run_ptq("bench " + quoted(dir / "cnn_int8.ptq") + " --runs 5 --warmup 1");
  REQUIRE_MESSAGE(b.code == 0, b.out);
  CHECK(contains(b.out, "median"));
  CHECK(contains(b.out, "slowest ops"));
}

TEST_CASE("cli: errors say what to fix and leave no output file") {
  TempDir dir;
  const std::string out = quoted(dir / "out.ptq");
  const std::string model = quoted(kModels + "/cnn.onnx");

  Run missing = run_ptq("convert " + quoted(dir / "nope.onnx") + " -o " + out);
  CHECK(missing.code == 1);
  CHECK(contains(missing.out, "nope.onnx"));

  // A corrupt model: a .ptq file of garbage.
  {
    std::ofstream f(dir / "bad.ptq", std::ios::binary);
    f << "this is not a model";
  }
  Run corrupt = run_ptq("inspect " + quoted(dir / "bad.ptq"));
  CHECK(corrupt.code == 1);
  CHECK(contains(corrupt.out, "bad.ptq"));
  CHECK(contains(corrupt.out, "at byte"));

  // Calibration data whose samples do not fit the model's input (10 values, the model takes 784).
  const std::vector<float> wrong(3 * 10, 0.5f);
  REQUIRE(ptq::io::write_npy(dir / "wrong.npy", ptq::DType::kFloat32, ptq::Shape{3, 10}, wrong.data()).ok());
  Run shape = run_ptq("convert " + model + " -o " + out + " --mode int8 --calib " + quoted(dir / "wrong.npy"));
  CHECK(shape.code == 1);
  CHECK(contains(shape.out, "wrong.npy"));
  CHECK(contains(shape.out, "784"));

  // Integer-only on a model with an op that has no int8 kernel (the LSTM).
  Run lstm = run_ptq("convert " + quoted(kModels + "/lstm.onnx") + " -o " + out + " --mode int8 --integer-only --calib " +
                 quoted(kModels + "/calib_100.npy") + " --calib-count 10");
  CHECK(lstm.code == 1);
  CHECK(contains(lstm.out, "integer-only conversion"));
  CHECK(contains(lstm.out, "(Lstm): no int8 kernel for Lstm"));

  // None of the failures left a file behind (only the two inputs this test wrote are there).
  CHECK(dir.count() == 2);
  CHECK_FALSE(exists(dir / "out.ptq"));
}

TEST_CASE("cli: convert --to tflite, then inspect and bench read the .tflite back") {
  TempDir dir;
  const std::string out = dir / "cnn_int8.tflite";
  Run c = run_ptq("convert " + quoted(kModels + "/cnn.onnx") + " -o " + quoted(out) + " --mode int8 --io int8 --calib " +
                  quoted(kModels + "/calib_100.npy") + " --calib-count 20 --to tflite");
  REQUIRE_MESSAGE(c.code == 0, c.out);
  const std::vector<uint8_t> bytes = tflite_test::read_bytes(out);
  REQUIRE(bytes.size() > 1000);
  CHECK(std::string(bytes.begin() + 4, bytes.begin() + 8) == "TFL3");  // the flatbuffer file identifier

  Run i = run_ptq("inspect " + quoted(out));
  REQUIRE_MESSAGE(i.code == 0, i.out);
  CHECK(contains(i.out, "(Conv2D)"));
  CHECK(contains(i.out, "(DepthwiseConv2D)"));
  CHECK(contains(i.out, "(FullyConnected)"));
  CHECK(contains(i.out, "graph input       scale 0.00392157 zero point -128"));  // int8 I/O: 1/255, -128

  Run b = run_ptq("bench " + quoted(out) + " --runs 3 --warmup 1 --ops 0");
  REQUIRE_MESSAGE(b.code == 0, b.out);
  CHECK(contains(b.out, "median"));
}

TEST_CASE("cli: a truncated .tflite, a custom op and an unsupported builtin exit 1 naming the byte offset or op") {
  TempDir dir;
  // A real .tflite (ptq's writer) cut to 1,000 bytes: its tables point past the end.
  const std::string whole = dir / "whole.tflite";
  Run c = run_ptq("convert " + quoted(kModels + "/cnn.onnx") + " -o " + quoted(whole) + " --mode int8 --calib " +
                  quoted(kModels + "/calib_100.npy") + " --calib-count 5 --to tflite");
  REQUIRE_MESSAGE(c.code == 0, c.out);
  write_bytes(dir / "cut.tflite", tflite_test::read_bytes(whole), 1000);
  Run cut = run_ptq("inspect " + quoted(dir / "cut.tflite"));
  CHECK(cut.code == 1);
  CHECK_MESSAGE(contains(cut.out, "cut.tflite"), cut.out);
  CHECK_MESSAGE(contains(cut.out, "at byte "), cut.out);
  // Even the 8-byte header alone, and an empty file.
  write_bytes(dir / "head.tflite", tflite_test::read_bytes(whole), 8);
  Run head = run_ptq("inspect " + quoted(dir / "head.tflite"));
  CHECK(head.code == 1);
  CHECK_MESSAGE(contains(head.out, "at byte "), head.out);
  write_bytes(dir / "empty.tflite", {}, 0);
  Run empty = run_ptq("bench " + quoted(dir / "empty.tflite"));
  CHECK(empty.code == 1);
  CHECK_MESSAGE(contains(empty.out, "empty.tflite"), empty.out);

  const std::vector<uint8_t> custom = tflite_test::one_op_model(32, "MyFancyOp");  // 32 = CUSTOM
  write_bytes(dir / "custom.tflite", custom, custom.size());
  Run cu = run_ptq("inspect " + quoted(dir / "custom.tflite"));
  CHECK(cu.code == 1);
  CHECK_MESSAGE(contains(cu.out, "at byte "), cu.out);
  CHECK_MESSAGE(contains(cu.out, "operator 0: custom op 'MyFancyOp' is not supported"), cu.out);

  const std::vector<uint8_t> squeeze = tflite_test::one_op_model(43);  // 43 = SQUEEZE
  write_bytes(dir / "squeeze.tflite", squeeze, squeeze.size());
  Run sq = run_ptq("inspect " + quoted(dir / "squeeze.tflite"));
  CHECK(sq.code == 1);
  CHECK_MESSAGE(contains(sq.out, "at byte "), sq.out);
  CHECK_MESSAGE(contains(sq.out, "operator 0: builtin SQUEEZE is not supported"), sq.out);
  // The same through convert: exit 1 and no output written.
  Run conv = run_ptq("convert " + quoted(dir / "squeeze.tflite") + " -o " + quoted(dir / "x.tflite") + " --to tflite");
  CHECK(conv.code == 1);
  CHECK_MESSAGE(contains(conv.out, "builtin SQUEEZE"), conv.out);
  CHECK_FALSE(exists(dir / "x.tflite"));
}

}  // TEST_SUITE
