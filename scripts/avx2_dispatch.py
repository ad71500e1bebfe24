"""Run a command on this CPU as an AVX2-only CPU would run it: every library told to use no AVX-512.

    python scripts/avx2_dispatch.py [--check] [--record FILE] -- anpr-ocr bench --data ../shared/data/vkcv-ocr/test ...

What for: INT8 gains depend on the CPU's instructions (`anpr_ocr.core.cpu`), and the project's speed targets
are set for AVX2-only CPUs too. On a CPU with AVX-512, each library can be made to pick the kernels it
would pick on an AVX2-only one, so their speed can be measured there; the figures are a stand-in, not an
AVX2-only CPU's (another core, other caches and clocks), and docs/experiments.md says how close they came
where both were measured.

How each library is told:
- PyTorch: ATEN_CPU_CAPABILITY=avx2 (its own vectorised kernels), ONEDNN_MAX_CPU_ISA=AVX2 (oneDNN),
  FBGEMM_ENABLE_INSTRUCTIONS=AVX2 (FBGEMM, its INT8 kernels), MKL_ENABLE_INSTRUCTIONS=AVX2 (MKL).
- NumPy: NPY_DISABLE_CPU_FEATURES (its AVX-512 dispatch targets); OpenBLAS: OPENBLAS_CORETYPE=Haswell;
  OpenCV: OPENCV_CPU_DISABLE; glibc: GLIBC_TUNABLES=glibc.cpu.hwcaps (its string and math routines).
- ONNX Runtime has no such switch: MLAS reads the CPU's features once, with CPUID and XGETBV, and takes
  AVX-512 kernels when XGETBV says the OS saves the AVX-512 registers. A copy of the installed package
  is made (under --ort-dir) whose extension module has every XGETBV replaced by `mov al, 7; nop`: the OS
  then seems to save only the x87, SSE and AVX registers, so MLAS takes its AVX2 kernels, as it does on
  a CPU without AVX-512. The copy goes first on PYTHONPATH. The sites are found with objdump.

--check runs the command under `perf record` (software clock samples) and reports, per library, the
share of the samples that fell on an EVEX-encoded instruction (AVX-512's encoding, which an AVX2-only CPU
cannot run) or on the one before it (the sample's skid): it should be none. Code generated at run time
(FBGEMM's and oneDNN's JIT kernels) cannot be read back from a file; its share is reported apart.
--record writes what was set, patched and checked as JSON. The speed records the command writes name the
variables set themselves (`anpr_ocr.core.cpu.cpu_features()["dispatch"]`); the patched ONNX Runtime only this one.
"""

from __future__ import annotations

import argparse
import bisect
import functools
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

ENVIRONMENT = {
    "ATEN_CPU_CAPABILITY": "avx2",
    "ONEDNN_MAX_CPU_ISA": "AVX2",
    "FBGEMM_ENABLE_INSTRUCTIONS": "AVX2",
    "MKL_ENABLE_INSTRUCTIONS": "AVX2",
    "NPY_DISABLE_CPU_FEATURES": "X86_V4 AVX512_ICL AVX512_SPR",
    "OPENBLAS_CORETYPE": "Haswell",
    "OPENCV_CPU_DISABLE": "AVX512-SKX",
    "GLIBC_TUNABLES": "glibc.cpu.hwcaps=-AVX512F,-AVX512VL,-AVX512BW,-AVX512DQ,-AVX512CD,-AVX512_VNNI",
}
XGETBV = b"\x0f\x01\xd0"
OS_SAVES_AVX_ONLY = b"\xb0\x07\x90"  # mov al, 7; nop: XCR0's low byte says x87, SSE and AVX state only
EXTENSION_GLOB = "onnxruntime_pybind11_state*.so"


@functools.cache
def load_segments(library: str) -> list[tuple[int, int, int]]:
    """The library's loadable segments as (file offset, virtual address, size in the file), from readelf."""
    out = subprocess.run(["readelf", "-lW", str(library)], capture_output=True, text=True, check=True).stdout
    return [(int(f[1], 16), int(f[2], 16), int(f[4], 16)) for f in (line.split() for line in out.splitlines())
            if f and f[0] == "LOAD"]


def xgetbv_sites(library: Path) -> list[int]:
    """File offsets of every XGETBV instruction in `library`'s code (objdump's disassembly)."""
    out = subprocess.run(["objdump", "-d", "--no-show-raw-insn", str(library)], capture_output=True, text=True,
                         check=True).stdout
    addresses = [int(m.group(1), 16) for m in re.finditer(r"^\s*([0-9a-f]+):\s+xgetbv\b", out, re.M)]
    segments = load_segments(str(library))
    return [next(off + a - vaddr for off, vaddr, size in segments if vaddr <= a < vaddr + size)
            for a in addresses]


def patched_onnxruntime(ort_dir: Path) -> dict:
    """A copy of the installed onnxruntime package in `ort_dir`, its XGETBVs patched (module docstring);
    made once per installed build. Returns what was patched."""
    import onnxruntime

    source = Path(onnxruntime.__file__).parent
    extension = next(source.glob(f"capi/{EXTENSION_GLOB}"))
    digest = hashlib.sha256(extension.read_bytes()).hexdigest()
    stamp = ort_dir / "patched.json"
    if stamp.is_file() and json.loads(stamp.read_text())["source_sha256"] == digest:
        return json.loads(stamp.read_text())
    if ort_dir.exists():
        shutil.rmtree(ort_dir)
    shutil.copytree(source, ort_dir / "onnxruntime")
    target = ort_dir / "onnxruntime" / "capi" / extension.name
    code = bytearray(target.read_bytes())
    sites = xgetbv_sites(target)
    if not sites:
        raise RuntimeError(f"no XGETBV found in {extension}: this onnxruntime cannot be patched this way")
    for off in sites:
        if code[off:off + 3] != XGETBV:
            raise RuntimeError(f"{extension} at {off:#x}: expected XGETBV, found {code[off:off + 3].hex()}")
        code[off:off + 3] = OS_SAVES_AVX_ONLY
    target.write_bytes(code)
    record = {"onnxruntime": onnxruntime.__version__, "source": str(extension), "source_sha256": digest,
              "xgetbv_sites": [hex(s) for s in sites], "replaced_with": OS_SAVES_AVX_ONLY.hex()}
    stamp.write_text(json.dumps(record, indent=1))
    return record


def avx2_environment(ort_dir: Path) -> dict[str, str]:
    """This process's environment with the AVX2-only settings and the patched onnxruntime first on the path."""
    env = dict(os.environ, **ENVIRONMENT)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ort_dir.resolve()), env.get("PYTHONPATH")) if p)
    return env


def mappings(perf_data: Path) -> dict[int, list[tuple[int, int, int, str]]]:
    """Per process, its executable mappings (start, end, file offset, path) from perf's mmap events, in the
    order they were made; a forked process starts with its parent's (perf records no mmap for those)."""
    out = subprocess.run(["perf", "script", "-i", str(perf_data), "--show-mmap-events", "--show-task-events",
                          "-F", "pid"], capture_output=True, text=True).stdout
    maps: dict[int, list] = defaultdict(list)
    mmap = re.compile(r"PERF_RECORD_MMAP2? (-?\d+)/\d+: \[(0x[0-9a-f]+)\((0x[0-9a-f]+)\) @ (0x[0-9a-f]+|\d+)"
                      r".*?\]: (\S+) (.+)$")
    fork = re.compile(r"PERF_RECORD_FORK\((\d+):\d+\):\((\d+):\d+\)")
    for line in out.splitlines():
        if m := mmap.search(line):
            if "x" in m.group(5):
                start, size, pgoff = (int(m.group(i), 0) for i in (2, 3, 4))
                maps[int(m.group(1))].append((start, start + size, pgoff, m.group(6).strip()))
        elif (m := fork.search(line)) and m.group(1) != m.group(2):  # a process, not a thread
            maps[int(m.group(1))] = list(maps[int(m.group(2))])
    return maps


def evex_addresses(library: str, addresses: list[int]) -> set[int]:
    """Of `addresses` (virtual addresses in `library`), those on an EVEX instruction or just after one."""
    hits: set[int] = set()
    ordered = sorted(set(addresses))
    for lo, hi in clusters(ordered):
        out = subprocess.run(["objdump", "-d", f"--start-address={lo - 64:#x}", f"--stop-address={hi + 16:#x}",
                              library], capture_output=True, text=True).stdout
        instructions = []  # (address, is EVEX)
        for m in re.finditer(r"^\s*([0-9a-f]+):\t((?:[0-9a-f]{2} )+)", out, re.M):
            prefix = [b for b in m.group(2).split() if b not in ("67", "2e", "3e", "26", "36", "64", "65")]
            instructions.append((int(m.group(1), 16), bool(prefix) and prefix[0] == "62"))
        starts = [a for a, _ in instructions]
        for a in ordered[bisect.bisect_left(ordered, lo):bisect.bisect_right(ordered, hi)]:
            i = bisect.bisect_right(starts, a) - 1
            if i >= 0 and (instructions[i][1] or (i > 0 and instructions[i - 1][1])):
                hits.add(a)
    return hits


def clusters(addresses: list[int], gap: int = 4096) -> list[tuple[int, int]]:
    """Sorted addresses merged into (low, high) ranges wherever neighbours are within `gap` bytes."""
    ranges: list[list[int]] = []
    for a in addresses:
        if ranges and a - ranges[-1][1] <= gap:
            ranges[-1][1] = a
        else:
            ranges.append([a, a])
    return [(lo, hi) for lo, hi in ranges]


def evex_check(perf_data: Path) -> dict:
    """Per library, its user-space samples and how many fell on EVEX code; run-time code counted apart."""
    maps = mappings(perf_data)
    out = subprocess.run(["perf", "script", "-i", str(perf_data), "-F", "pid,ip"], capture_output=True,
                         text=True).stdout
    samples: dict[str, list[int]] = defaultdict(list)
    unmapped = 0
    for line in out.split("\n"):
        fields = line.split()
        if len(fields) != 2:
            continue
        pid, ip = int(fields[0]), int(fields[1], 16)
        if ip >= 0xffff800000000000:
            continue  # the kernel
        # the newest mapping holding the address (an exec'd process maps its own over its parent's)
        hit = next(((s, off, path) for s, e, off, path in reversed(maps.get(pid, [])) if s <= ip < e), None)
        vaddr = None
        if hit is not None and Path(hit[2]).is_file():
            start, pgoff, path = hit
            file_offset = ip - start + pgoff
            vaddr = next((va + file_offset - o for o, va, size in load_segments(path) if o <= file_offset < o + size),
                         None)
        if vaddr is None:  # no file holds its code
            unmapped += 1
        else:
            samples[path].append(vaddr)
    libraries = {}
    for path, addresses in samples.items():
        counts = Counter(addresses)
        evex = evex_addresses(path, list(counts))
        libraries[Path(path).name] = {"samples": len(addresses), "evex_samples": sum(counts[a] for a in evex)}
    total = sum(v["samples"] for v in libraries.values()) + unmapped
    return {"user_samples": total, "runtime_code_samples": unmapped,
            "evex_samples": sum(v["evex_samples"] for v in libraries.values()),
            "libraries": dict(sorted(libraries.items(), key=lambda kv: -kv[1]["samples"]))}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ort-dir", type=Path, default=Path("runs/avx2_dispatch"),
                        help="where the patched onnxruntime copy goes (default: runs/avx2_dispatch)")
    parser.add_argument("--check", action="store_true", help="sample the run with perf; report EVEX samples")
    parser.add_argument("--plain", action="store_true",
                        help="run the command as it is, without the AVX2 settings (with --check: the comparison)")
    parser.add_argument("--record", type=Path, help="write what was set, patched and checked to this JSON")
    parser.add_argument("command", nargs=argparse.REMAINDER, help="the command, after --")
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("no command given (put it after --)")
    patch = None if args.plain else patched_onnxruntime(args.ort_dir)
    env = dict(os.environ) if args.plain else avx2_environment(args.ort_dir)
    started = time.time()
    with tempfile.TemporaryDirectory() as tmp:
        perf_data = Path(tmp) / "perf.data"
        perf = ["perf", "record", "-q", "-e", "cpu-clock", "-F", "999", "-o", str(perf_data), "--"]
        prefix = perf if args.check else []
        rc = subprocess.run(prefix + command, env=env).returncode
        check = evex_check(perf_data) if args.check else None
    record = {"command": command, "returncode": rc, "seconds": round(time.time() - started, 1),
              "environment": {} if args.plain else ENVIRONMENT, "onnxruntime_patch": patch, "evex_check": check}
    if check is not None:
        share = check["evex_samples"] / max(check["user_samples"], 1)
        print(f"EVEX (AVX-512) samples: {check['evex_samples']} of {check['user_samples']} in user space "
              f"({100 * share:.2f}%); run-time generated code: {check['runtime_code_samples']}", file=sys.stderr)
    if args.record is not None:
        args.record.parent.mkdir(parents=True, exist_ok=True)
        args.record.write_text(json.dumps(record, indent=1) + "\n")
    return rc


if __name__ == "__main__":
    sys.exit(main())
