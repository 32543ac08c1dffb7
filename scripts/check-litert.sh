#!/usr/bin/env bash
# check-litert.sh: re-runs LiteRT (PyPI ai-edge-litert, in a venv under ~/.cache/ptq/litert-venv) on
# the committed .tflite fixtures and compares with the committed outputs, so that a change on
# either side (LiteRT's kernels, or the fixtures) is noticed; then, when the dev build's
# ptq_model_tests exists, runs the models ptq's writer produces from the fixtures in LiteRT and
# compares those too; and, when the build's ptq tool exists too, converts the Fashion-MNIST CNN and
# MLP with it to .tflite, runs them in LiteRT and checks ptq's interpreter against those outputs
# (tools/tflite_fixtures/check_ptq_export.py, tests/io/tflite/export/README.md). Optional: skipped with one line when PTQ_CI_LITERT=0 or when PyPI cannot be
# reached. Bounded in time (the pip install is cut at 150 s).
#
#   scripts/check-litert.sh [build-dir]      (default build/dev)
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
build_dir="${1:-build/dev}"
requirement="ai-edge-litert==2.3.0"
venv="${HOME}/.cache/ptq/litert-venv"

if [[ "${PTQ_CI_LITERT:-1}" == "0" ]]; then
  echo "check-litert: skipped (PTQ_CI_LITERT=0)"
  exit 0
fi
if [[ ! -x "${venv}/bin/python" ]]; then
  /usr/bin/python3 -m venv "${venv}"
fi
if ! timeout 150 "${venv}/bin/python" -m pip install --quiet --disable-pip-version-check --timeout 20 \
    "${requirement}" numpy </dev/null >/dev/null 2>&1; then
  echo "check-litert: skipped (could not install ${requirement} from PyPI)"
  exit 0
fi
"${venv}/bin/python" tools/tflite_fixtures/make_fixtures.py --check
if [[ -x "${build_dir}/tests/ptq_model_tests" ]]; then
  out="$(mktemp -d)"
  trap 'rm -rf "${out}"' EXIT
  PTQ_TFLITE_ROUNDTRIP_DIR="${out}" "${build_dir}/tests/ptq_model_tests" -tc='tflite: read -> write -> read*' >/dev/null
  "${venv}/bin/python" tools/tflite_fixtures/make_fixtures.py --roundtrip "${out}"
fi
if [[ -x "${build_dir}/tests/ptq_model_tests" && -x "${build_dir}/tools/ptq" ]]; then
  export_dir="$(mktemp -d)"
  trap 'rm -rf "${out:-}" "${export_dir}"' EXIT
  "${venv}/bin/python" tools/tflite_fixtures/check_ptq_export.py --ptq "${build_dir}/tools/ptq" --models cnn mlp \
    --out "${export_dir}" 2>/dev/null
  PTQ_TFLITE_EXPORT_DIR="${export_dir}" "${build_dir}/tests/ptq_model_tests" -tc='tflite export*'
fi
