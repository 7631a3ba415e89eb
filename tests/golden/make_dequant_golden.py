#!/usr/bin/env python3
"""Writes tests/golden/dequant.json: raw ggml blocks and the f32 values the `gguf` Python
package (gguf.quants.dequantize, an implementation independent of ours) decodes them to.

Real blocks come from the two downloaded models; types they lack (F16, BF16, Q4_0, Q5_1,
Q5_K, plus extra Q4_K and Q6_K) use seeded random blocks whose scale fields are set to finite halves.
Usage: make_dequant_golden.py [MODEL_DIR]   (default ~/.cache/attnlab/models)
"""
import base64
import importlib.metadata
import json
import os
import sys

import numpy as np
import gguf
from gguf import GGMLQuantizationType as Q
from gguf.quants import dequantize

MODEL_DIR = sys.argv[1] if len(sys.argv) > 1 else os.path.expanduser("~/.cache/attnlab/models")
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "dequant.json")
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FILES = {
    m["name"]: m["file"]
    for m in json.load(open(os.path.join(ROOT, "assets", "models.json")))["models"]
}  # the model catalog: short name -> file name
N_ELEMS = 256  # per case: 8 blocks of 32 or 1 block of 256; two spans for real tensors


def case(qtype, raw, source):
    raw = np.frombuffer(bytes(raw), dtype=np.uint8)
    vals = dequantize(raw, qtype).astype(np.float32).reshape(-1)
    return {"type": qtype.name, "type_id": int(qtype), "source": source, "n": int(vals.size),
            "bytes_b64": base64.b64encode(raw.tobytes()).decode(),
            "values": [float(v) for v in vals]}


def real_cases(path, wanted):
    r = gguf.GGUFReader(path)
    out, seen = [], set()
    for t in r.tensors:
        qt = t.tensor_type
        if qt not in wanted or qt in seen:
            continue
        seen.add(qt)
        block_elems, block_bytes = gguf.GGML_QUANT_SIZES[qt]
        flat = np.asarray(t.data).reshape(-1).view(np.uint8)
        n_blocks = 2 * N_ELEMS // block_elems  # two spans: the start and the middle of the tensor
        half = n_blocks // 2 if n_blocks > 1 else 1
        mid = (flat.size // block_bytes // 2) * block_bytes
        raw = np.concatenate([flat[:half * block_bytes], flat[mid:mid + half * block_bytes]])
        out.append(case(qt, raw, f"{os.path.basename(path)}:{t.name}"))
    return out


def synthetic_cases():
    rng = np.random.default_rng(1234)
    out = []
    x = (rng.standard_normal(N_ELEMS) * 3).astype(np.float32)
    x[:4] = [0.0, -0.0, 65504.0, 6.0e-8]  # zero, negative zero, max half, a subnormal
    out.append(case(Q.F16, x.astype(np.float16).tobytes(), "synthetic normal*3"))
    bf = (x.view(np.uint32) >> 16).astype(np.uint16)
    out.append(case(Q.BF16, bf.tobytes(), "synthetic normal*3 truncated to bf16"))
    # (type, scale-field byte offsets, scale dtype) for random blocks
    specs = [(Q.Q4_0, [0], np.float16), (Q.Q5_1, [0, 2], np.float16),
             (Q.Q5_K, [0, 2], np.float16), (Q.Q4_K, [0, 2], np.float16),
             (Q.Q6_K, [208], np.float16)]
    for qt, offs, dt in specs:
        block_elems, block_bytes = gguf.GGML_QUANT_SIZES[qt]
        n_blocks = max(1, N_ELEMS // block_elems)
        raw = rng.integers(0, 256, size=n_blocks * block_bytes, dtype=np.uint8)
        for b in range(n_blocks):
            for o in offs:
                s = np.array([rng.uniform(0.001, 0.05) * (1 if o == offs[0] else -1)], dtype=dt)
                sb = np.frombuffer(s.tobytes(), dtype=np.uint8)
                raw[b * block_bytes + o: b * block_bytes + o + sb.size] = sb
        out.append(case(qt, raw, "synthetic random bytes"))
    return out


def main():
    cases = []
    smol = os.path.join(MODEL_DIR, FILES["smollm2"])
    gemma = os.path.join(MODEL_DIR, FILES["gemma3"])
    cases += real_cases(smol, {Q.Q4_1, Q.Q8_0, Q.F32})
    cases += real_cases(gemma, {Q.Q5_0, Q.Q4_K, Q.Q6_K, Q.Q8_0})
    cases += synthetic_cases()
    doc = {"generator": "tests/golden/make_dequant_golden.py",
           "gguf_version": importlib.metadata.version("gguf"),
           "numpy_version": np.__version__, "cases": cases}
    with open(OUT, "w") as f:
        json.dump(doc, f, separators=(",", ":"))
    print(f"wrote {OUT}: {len(cases)} cases, {os.path.getsize(OUT)} bytes")


if __name__ == "__main__":
    main()
