"""Run one function of a freestanding x86-64 ELF under BochsCPU (the Bochs CPU core, via the PyPI
package bochscpu-python), so that AVX-512 / AVX-512 VNNI code can be executed on a host without them.

Test tooling only. The guest is a static, -nostdlib, non-PIE ELF whose code calls nothing outside
itself (no libc, no libm, no syscalls). The harness maps its PT_LOAD segments, a data arena, a stack
and a "return sentinel" page into a 4-level page table, puts the CPU in 64-bit long mode with
SSE/AVX/AVX-512 state enabled (CR4.OSXSAVE, XCR0 = x87|SSE|AVX|opmask|ZMM), calls the function with
the System V ABI (integer arguments in rdi, rsi, rdx, rcx, r8, r9), and stops when the function
returns into the sentinel page (a HLT at CPL3 faults with #GP there).

    g = Guest("guest.elf")
    buf = g.alloc(4096); g.write(buf, data)
    ret = g.call("my_function", buf, 4096)
    out = g.read(buf, 4096)
"""
from __future__ import annotations

import ctypes
import mmap
import os
import struct
import subprocess
import tempfile
import time

_HERE = os.path.dirname(os.path.abspath(__file__))
PAGE = 0x1000


class EmulatorUnavailable(Exception):
    """bochscpu is not installed or cannot be loaded on this host."""


def _load_glibc_compat() -> None:
    # See glibc_compat.c: the 0.4.0 wheel needs __isoc23_strtoull / __isoc23_sscanf (glibc >= 2.38).
    libc = ctypes.CDLL(None)
    if hasattr(libc, "__isoc23_strtoull"):
        return
    out_dir = os.path.join(tempfile.gettempdir(), f"ptq-emu-{os.getuid()}")
    os.makedirs(out_dir, exist_ok=True)
    so = os.path.join(out_dir, "libglibc_compat.so")
    src = os.path.join(_HERE, "glibc_compat.c")
    if not os.path.exists(so) or os.path.getmtime(so) < os.path.getmtime(src):
        cc = os.environ.get("CC", "cc")
        tmp = so + f".{os.getpid()}"
        subprocess.run([cc, "-O2", "-shared", "-fPIC", "-o", tmp, src], check=True)
        os.replace(tmp, so)
    ctypes.CDLL(so, mode=ctypes.RTLD_GLOBAL)


# BochsCPU's "cpu.model" parameter is an index into Bochs' cpudb list. The names that bochscpu
# attaches to the indices are out of step with the Bochs inside the 0.4.0 wheel (its default, meant
# as Tiger Lake, is Cannon Lake), so the indices below were found by running CPUID in the guest and
# are checked again the same way (brand string) whenever a model is selected.
CPU_MODELS = {
    # name: (cpudb index, substring of the CPUID brand string, what it offers us)
    "corei7_skylake_x": (26, "i7-7800X", "AVX-512 F/CD/BW/DQ/VL"),
    "corei3_cnl": (27, "i3-8121U", "AVX-512 F/CD/BW/DQ/VL/IFMA/VBMI (bochscpu's default)"),
    "corei7_icelake_u": (28, "i7-1065G7", "AVX-512 + VNNI"),
    "tigerlake": (29, "i5-1135G7", "AVX-512 + VNNI"),
    "sapphire_rapids": (30, "w9-3475X", "AVX-512 + VNNI + BF16 + FP16, and AVX-VNNI"),
    "arrow_lake": (31, "Ultra 5 245K", "AVX2 + AVX-VNNI, no AVX-512"),
}
_selected_model = None


def select_cpu_model(name: str) -> None:
    """Choose the emulated CPU. Call before the first Guest of the process (the model is read when
    the first CPU is created); the brand string is checked by Guest.check_cpu_model()."""
    global _selected_model
    bx = import_bochscpu()
    if name not in CPU_MODELS:
        raise ValueError(f"unknown CPU model {name!r}; known: {', '.join(CPU_MODELS)}")
    if _selected_model not in (None, name):
        raise RuntimeError(f"CPU model already {_selected_model!r} in this process")
    lib = ctypes.CDLL(bx._bochscpu.__file__)
    lib.sim_get_param_enum.restype = ctypes.c_void_p
    lib.sim_get_param_enum.argtypes = [ctypes.c_char_p]
    param = lib.sim_get_param_enum(b"cpu.model")
    if not param:
        raise EmulatorUnavailable("bochscpu has no cpu.model parameter")
    set_value = getattr(lib, "_ZN15bx_param_enum_c3setEl")  # bx_param_enum_c::set(long)
    set_value.argtypes = [ctypes.c_void_p, ctypes.c_long]
    set_value.restype = None
    set_value(param, CPU_MODELS[name][0])
    _selected_model = name


def import_bochscpu():
    try:
        _load_glibc_compat()
        import bochscpu  # noqa: F401
        import bochscpu.cpu  # noqa: F401
        import bochscpu.memory  # noqa: F401
    except (ImportError, OSError, subprocess.CalledProcessError) as e:
        raise EmulatorUnavailable(str(e)) from e
    return bochscpu


# ---- a minimal ELF64 reader (program headers and .symtab only) ---------------------------------

class Elf:
    def __init__(self, path: str):
        with open(path, "rb") as f:
            self.data = f.read()
        d = self.data
        if d[:4] != b"\x7fELF" or d[4] != 2 or d[5] != 1:
            raise ValueError(f"{path}: not a little-endian ELF64 file")
        (e_type, e_machine) = struct.unpack_from("<HH", d, 16)
        if e_type != 2 or e_machine != 62:
            raise ValueError(f"{path}: not an x86-64 ET_EXEC (link with -static -no-pie)")
        e_phoff, e_shoff = struct.unpack_from("<QQ", d, 0x20)
        e_phentsize, e_phnum, e_shentsize, e_shnum, e_shstrndx = struct.unpack_from("<HHHHH", d, 0x36)
        self.segments = []  # (vaddr, bytes, memsz)
        for i in range(e_phnum):
            p_type, _flags, off, vaddr, _paddr, filesz, memsz, _align = struct.unpack_from(
                "<IIQQQQQQ", d, e_phoff + i * e_phentsize)
            if p_type == 1:  # PT_LOAD
                self.segments.append((vaddr, d[off:off + filesz], memsz))
        self.symbols = {}
        sections = [struct.unpack_from("<IIQQQQIIQQ", d, e_shoff + i * e_shentsize) for i in range(e_shnum)]
        for sh in sections:
            if sh[1] != 2:  # SHT_SYMTAB
                continue
            strtab = sections[sh[6]]
            for j in range(sh[5] // 24):
                st_name, _info, _other, shndx, value, _size = struct.unpack_from("<IBBHQQ", d, sh[4] + j * 24)
                if st_name and shndx:
                    s = d[strtab[4] + st_name:d.index(b"\0", strtab[4] + st_name)].decode()
                    self.symbols[s] = value

    def symbol(self, name: str) -> int:
        if name not in self.symbols:
            raise KeyError(f"symbol {name!r} not in the guest ELF")
        return self.symbols[name]


# ---- the emulated machine ------------------------------------------------------------------------

class GuestFault(Exception):
    pass


class Guest:
    ARENA = 0x1000_0000      # data buffers
    SENTINEL = 0x6000_0000   # return address: a page of HLT
    CPUID_STUB = 0x6000_1000  # cpuid_stub(leaf, subleaf, uint32_t out[4])
    STACK_TOP = 0x7000_0000
    GPA_BASE = 0x0010_0000   # guest-physical addresses of every page above, in host-mmap order
    PT_GPA = 0x4000_0000     # where the page tables go (guest-physical)

    # mov eax,edi; mov ecx,esi; mov r8,rdx; push rbx; cpuid; mov [r8],eax; mov [r8+4],ebx;
    # mov [r8+8],ecx; mov [r8+12],edx; pop rbx; ret
    _CPUID_CODE = bytes.fromhex("89f889f14989d0530fa241890041895804418948084189500c5bc3")

    def __init__(self, elf_path: str, cpu_model: str = "sapphire_rapids", arena_bytes: int = 8 << 20,
                 stack_bytes: int = 256 << 10):
        self.bx = import_bochscpu()
        select_cpu_model(cpu_model)
        self.cpu_model = cpu_model
        self.elf = Elf(elf_path)
        regions = []  # (gva, npages)
        for vaddr, _data, memsz in self.elf.segments:
            lo = vaddr & ~(PAGE - 1)
            hi = (vaddr + memsz + PAGE - 1) & ~(PAGE - 1)
            regions.append((lo, (hi - lo) // PAGE))
        regions.append((self.ARENA, arena_bytes // PAGE))
        regions.append((self.SENTINEL, 2))  # the sentinel page and the CPUID stub
        regions.append((self.STACK_TOP - stack_bytes, stack_bytes // PAGE))
        # Merge overlapping page runs of the ELF segments.
        pages = sorted({gva + i * PAGE for gva, n in regions for i in range(n)})
        self.host = mmap.mmap(-1, len(pages) * PAGE)
        self.hbase = ctypes.addressof(ctypes.c_char.from_buffer(self.host))
        self.offset_of = {}  # gva page -> offset in self.host
        pt = self.bx.memory.PageMapLevel4Table()
        for i, gva in enumerate(pages):
            gpa = self.GPA_BASE + i * PAGE
            self.bx.memory.page_insert(gpa, self.hbase + i * PAGE)
            pt.insert(gva, gpa, 1)  # 1 = present, user, writable
            self.offset_of[gva] = i * PAGE
        self._pt = pt
        self.cr3 = self.PT_GPA
        for hva, gpa in pt.commit(self.cr3):
            self.bx.memory.page_insert(gpa, hva)
        for vaddr, data, _memsz in self.elf.segments:
            self.write(vaddr, data)
        self.write(self.SENTINEL, b"\xf4" * PAGE)  # hlt
        self.write(self.CPUID_STUB, self._CPUID_CODE)
        self.arena_end = self.ARENA + arena_bytes
        self.reset_arena()
        self.last_insns = None
        self.last_seconds = None

    # memory -------------------------------------------------------------------------------------
    def _host_range(self, gva: int, n: int):
        while n > 0:
            page = gva & ~(PAGE - 1)
            if page not in self.offset_of:
                raise ValueError(f"guest address {gva:#x} is not mapped")
            off = gva - page
            k = min(n, PAGE - off)
            yield self.offset_of[page] + off, k
            gva += k
            n -= k

    def write(self, gva: int, data: bytes) -> None:
        data = memoryview(bytes(data))
        pos = 0
        for hoff, k in self._host_range(gva, len(data)):
            self.host[hoff:hoff + k] = data[pos:pos + k]
            pos += k

    def read(self, gva: int, n: int) -> bytes:
        return b"".join(self.host[h:h + k] for h, k in self._host_range(gva, n))

    def reset_arena(self) -> None:
        self._next = self.ARENA

    def alloc(self, nbytes: int, align: int = 64, offset: int = 0) -> int:
        """A buffer in the arena at `offset` bytes past an `align`-aligned address."""
        gva = (self._next + align - 1) // align * align + offset
        if gva + nbytes > self.arena_end:
            raise MemoryError("guest arena exhausted")
        self._next = gva + max(nbytes, 1)
        return gva

    def put(self, data: bytes, align: int = 64, offset: int = 0) -> int:
        gva = self.alloc(len(data), align, offset)
        self.write(gva, data)
        return gva

    # execution ----------------------------------------------------------------------------------
    def _initial_state(self, rip: int, args):
        bx = self.bx
        st = bx.State()
        bx.cpu.set_long_mode(st)
        cr0 = bx.cpu.ControlRegister(st.cr0)
        cr0.MP = True
        cr0.EM = False
        cr0.TS = False
        st.cr0 = int(cr0)
        cr4 = bx.cpu.ControlRegister(st.cr4)
        cr4.OSFXSR = True
        cr4.OSXMMEXCPT = True
        cr4.OSXSAVE = True
        st.cr4 = int(cr4)
        st.xcr0 = 0xE7  # x87 | SSE | AVX | opmask | ZMM_Hi256 | Hi16_ZMM
        st.mxcsr = 0x1F80
        st.mxcsr_mask = 0xFFFF
        st.fpcw = 0x037F
        st.rflags = 0x2
        st.cr3 = self.cr3
        cs = bx.Segment()
        cs.present, cs.selector, cs.base, cs.limit, cs.attr = True, 0x33, 0, 0xFFFF_FFFF, 0x22FB  # CPL3, L=1
        ds = bx.Segment()
        ds.present, ds.selector, ds.base, ds.limit, ds.attr = True, 0x2B, 0, 0xFFFF_FFFF, 0xCF3
        st.cs = cs
        st.ss = st.ds = st.es = st.fs = st.gs = ds
        rsp = self.STACK_TOP - 64
        self.write(rsp, struct.pack("<Q", self.SENTINEL))  # the return address
        st.rsp = rsp
        st.rip = rip
        regs = ("rdi", "rsi", "rdx", "rcx", "r8", "r9")
        if len(args) > len(regs):
            raise ValueError("at most 6 integer arguments")
        for r, v in zip(regs, args):
            setattr(st, r, int(v) & 0xFFFF_FFFF_FFFF_FFFF)
        return st

    def cpuid(self, leaf: int, subleaf: int = 0):
        """(eax, ebx, ecx, edx) of CPUID as the emulated CPU answers it."""
        out = self.alloc(16)
        self.call(self.CPUID_STUB, leaf, subleaf, out)
        regs = struct.unpack("<4I", self.read(out, 16))
        self._next = out  # give the 16 bytes back
        return regs

    def brand_string(self) -> str:
        raw = b"".join(struct.pack("<4I", *self.cpuid(leaf)) for leaf in (0x80000002, 0x80000003, 0x80000004))
        return raw.split(b"\0")[0].decode(errors="replace").strip()

    def check_cpu_model(self) -> str:
        brand = self.brand_string()
        if CPU_MODELS[self.cpu_model][1] not in brand:
            raise EmulatorUnavailable(f"asked for {self.cpu_model}, the emulated CPU says {brand!r}")
        return brand

    def call(self, name, *args: int, count_instructions: bool = False) -> int:
        """Run `name(*args)` (a symbol of the ELF, or an address) to completion; returns rax.
        Integer/pointer arguments only. With count_instructions, self.last_insns is set (slower)."""
        bx = self.bx
        sess = bx.Session()
        fault = {}

        def on_missing_page(gpa):
            fault.setdefault("missing_page", gpa)
            raise GuestFault(f"guest touched unmapped physical page {gpa:#x}")

        def on_exception(s, _cpu, vector, error):
            fault.setdefault("exception", (vector, error, s.cpu.rip))
            s.stop()

        sess.missing_page_handler = on_missing_page
        hook = bx.Hook()
        hook.exception = on_exception
        count = [0]
        if count_instructions:
            def after(_s, _cpu, _insn):
                count[0] += 1
            hook.after_execution = after
        rip = name if isinstance(name, int) else self.elf.symbol(name)
        sess.cpu.state = self._initial_state(rip, args)
        t0 = time.perf_counter()
        sess.run([hook])
        self.last_seconds = time.perf_counter() - t0
        self.last_insns = count[0] if count_instructions else None
        vector, error, rip = fault.get("exception", (None, None, None))
        # The normal way out: `ret` into the sentinel page, whose HLT faults (#GP, vector 13) at CPL3.
        # (Bochs reports rip past the HLT here, so accept the whole page.)
        if vector == 13 and self.SENTINEL <= rip < self.SENTINEL + PAGE:
            return sess.cpu.rax
        if vector is None:
            raise GuestFault(f"guest stopped without returning (rip={sess.cpu.rip:#x}, {fault})")
        names = {0: "#DE", 6: "#UD", 13: "#GP", 14: "#PF", 17: "#AC", 19: "#XM"}
        raise GuestFault(f"guest raised {names.get(vector, vector)} (error {error:#x}) at rip={rip:#x}")
