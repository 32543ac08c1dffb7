#!/usr/bin/python3
# make_npy.py: writes the small .npy files in this folder with NumPy's own writer, so that
# tests/io/npy_test.cpp reads files ptq did not write. Run by hand, never by the tests:
#   /usr/bin/python3 tests/io/data/make_npy.py     (Debian 12: python3-numpy 1.24)
# The values are simple formulas repeated in the test as its expected values.
import os
import numpy as np

here = os.path.dirname(os.path.abspath(__file__))


def save(name, a, version=None):
    path = os.path.join(here, name)
    if version is None:
        np.save(path, a)  # NumPy picks version 1.0 for these small headers
    else:
        with open(path, "wb") as f:
            np.lib.format.write_array(f, a, version=version)


save("f4_2x3.npy", (np.arange(6, dtype="<f4") / 4).reshape(2, 3))          # k/4, exact
save("f2_5.npy", np.array([0, 1, -2, 0.5, 65504], dtype="<f2"))
save("i1_4.npy", np.array([-128, -1, 0, 127], dtype="i1"))
save("u1_2x2.npy", np.array([[0, 255], [1, 128]], dtype="u1"))
save("i2_3.npy", np.array([-32768, 7, 32767], dtype="<i2"))
save("i4_3.npy", np.array([-2147483648, -5, 2147483647], dtype="<i4"))
save("i8_3.npy", np.array([-9223372036854775808, 3, 9223372036854775807], dtype="<i8"))
save("f4_scalar.npy", np.array(3.5, dtype="<f4"))                           # 0-d
save("f4_0x3.npy", np.zeros((0, 3), dtype="<f4"))                           # no elements
save("f4_v2.npy", np.array([1.5, -1.5], dtype="<f4"), version=(2, 0))
save("f4_v3.npy", np.array([1.5, -1.5], dtype="<f4"), version=(3, 0))
# Refused by ptq (unimplemented), each for its own reason:
save("fortran_f4_2x3.npy", np.asfortranarray((np.arange(6, dtype="<f4")).reshape(2, 3)))
save("big_endian_i4.npy", np.array([1, 2], dtype=">i4"))
save("f8_2.npy", np.array([1.0, 2.0], dtype="<f8"))
save("bool_2.npy", np.array([True, False]))
# A folder of shards for load_samples: samples 0..4 of 4 elements, sample s holding s*10 + e.
os.makedirs(os.path.join(here, "shards"), exist_ok=True)
s = (np.arange(5)[:, None] * 10 + np.arange(4)[None, :]).astype("<f4")
save("shards/part_000.npy", s[:3])
save("shards/part_001.npy", s[3:])
save("labels_u1.npy", np.array([3, 0, 9], dtype="u1"))
