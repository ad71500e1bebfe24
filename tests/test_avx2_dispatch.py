"""scripts/avx2_dispatch.py: its EVEX finder against the compiler's own choice of instructions, and the patched
ONNX Runtime against the installed one (the same readings, a different dispatch)."""

import importlib.util
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "scripts" / "avx2_dispatch.py"
spec = importlib.util.spec_from_file_location("avx2_dispatch", SCRIPT)
avx2_dispatch = importlib.util.module_from_spec(spec)
spec.loader.exec_module(avx2_dispatch)

needs_binutils = pytest.mark.skipif(not (shutil.which("objdump") and shutil.which("readelf")),
                                    reason="needs objdump and readelf")

TWO_KERNELS = r"""
#include <immintrin.h>
__attribute__((target("avx2"))) void add256(float* a, const float* b) {
    for (int i = 0; i < 64; i += 8)
        _mm256_storeu_ps(a + i, _mm256_add_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i)));
}
__attribute__((target("avx512f"))) void add512(float* a, const float* b) {
    for (int i = 0; i < 64; i += 16)
        _mm512_storeu_ps(a + i, _mm512_add_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i)));
}
"""


def test_the_variables_set_are_those_the_records_name():
    from anpr_ocr.core.cpu import DISPATCH_VARIABLES

    assert set(avx2_dispatch.ENVIRONMENT) == set(DISPATCH_VARIABLES)


def test_clusters_merge_addresses_within_the_gap():
    assert avx2_dispatch.clusters([10, 20, 5000, 5010, 20000], gap=4096) == [(10, 20), (5000, 5010),
                                                                            (20000, 20000)]
    assert avx2_dispatch.clusters([10, 20, 5000, 5010, 20000], gap=5000) == [(10, 5010), (20000, 20000)]
    assert avx2_dispatch.clusters([], gap=16) == []


@needs_binutils
@pytest.mark.skipif(shutil.which("gcc") is None, reason="needs gcc")
def test_evex_finder_flags_the_avx512_kernel_only(tmp_path):
    source, library = tmp_path / "k.c", tmp_path / "k.so"
    source.write_text(TWO_KERNELS)
    subprocess.run(["gcc", "-O2", "-fPIC", "-shared", str(source), "-o", str(library)], check=True)
    listing = subprocess.run(["objdump", "-d", str(library)], capture_output=True, text=True, check=True).stdout
    functions = {}
    for name in ("add256", "add512"):
        body = listing.split(f"<{name}>:\n", 1)[1].split("\n\n", 1)[0]
        functions[name] = [int(a, 16) for a in re.findall(r"^\s*([0-9a-f]+):", body, re.M)]
    flagged = avx2_dispatch.evex_addresses(str(library), functions["add256"] + functions["add512"])
    assert not flagged & set(functions["add256"])
    assert len(flagged & set(functions["add512"])) >= 4  # its loads, adds and stores, and the sample's skid


def _int8_logits(env: dict | None) -> tuple[str, np.ndarray]:
    """The committed INT8 reader graph's logits on a fixed batch, run in a fresh process, and where
    onnxruntime was imported from."""
    code = (
        "import json, numpy as np, onnxruntime as ort\n"
        "from anpr_ocr.reader.quantize import onnx_int8_graph\n"
        "from anpr_ocr.core.shipped import INT8_WEIGHTS\n"
        "from anpr_ocr.core.images import INPUT_HEIGHT, INPUT_WIDTH\n"
        "s = ort.InferenceSession(onnx_int8_graph(INT8_WEIGHTS), providers=['CPUExecutionProvider'])\n"
        "x = np.random.default_rng(0).random((8, 1, INPUT_HEIGHT, INPUT_WIDTH), dtype=np.float32)\n"
        "print(json.dumps([ort.__file__, s.run(None, {s.get_inputs()[0].name: x})[0].tolist()]))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env,
                         cwd=REPO).stdout
    where, logits = json.loads(out.strip().splitlines()[-1])
    return where, np.asarray(logits)


@needs_binutils
def test_patched_onnxruntime_is_imported_and_reads_as_the_installed_one(tmp_path):
    pytest.importorskip("onnxruntime")
    patch = avx2_dispatch.patched_onnxruntime(tmp_path / "ort")
    assert patch["xgetbv_sites"]
    copy = next((tmp_path / "ort" / "onnxruntime" / "capi").glob(avx2_dispatch.EXTENSION_GLOB)).read_bytes()
    for site in patch["xgetbv_sites"]:
        assert copy[int(site, 16):int(site, 16) + 3] == avx2_dispatch.OS_SAVES_AVX_ONLY
    where, patched = _int8_logits(avx2_dispatch.avx2_environment(tmp_path / "ort"))
    assert Path(where).is_relative_to(tmp_path)
    _, installed = _int8_logits(None)
    # other kernels, the same integer sums (7-bit weights): the same frames' best characters
    assert np.array_equal(patched.argmax(-1), installed.argmax(-1))
    assert np.abs(patched - installed).max() < 1e-3
