#!/usr/bin/env python3
"""Speed of attnlab's forward pass against transformers on PyTorch CPU (issue 3, "Speed").

Both sides get the same GGUF file, the same thread count and the same prompt
(tests/bench/prompt.txt repeated until long enough), and measure the same three things:
  prefill tokens/s at N = 256,
  decode tokens/s at context 512 with the KV cache, and without one (recompute everything),
  peak RSS of the process.
transformers runs in a child process of this script (so its peak RSS is its own), with float32
weights (what from_pretrained(gguf_file=...) gives) and its default (sdpa) attention; attnlab
runs as the `bench` binary (tests/bench/bench_model.cpp), one process per model.

Usage: /opt/golden-venv/bin/python tests/bench/compare_transformers.py
           [--model smollm2|gemma3] [--threads N] [--bench build/tests/bench] [--model-dir DIR]
Prints one table and the ratios attnlab / transformers (higher is better for speed; for RSS
the ratio is attnlab / transformers, lower is better).
"""
import argparse
import json
import os
import resource
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
FILES = {
    "smollm2": "SmolLM2-135M-Instruct.Q4_1.gguf",
    "gemma3": "gemma-3-270m-q4_k_m.gguf",
}
PREFILL_N = 256
DECODE_CONTEXT = 512
DECODE_STEPS = 16


def prompt_ids(tok):
    with open(os.path.join(HERE, "prompt.txt"), encoding="utf-8") as f:
        base = f.read()
    text = ""
    while len(tok.encode(text)) <= DECODE_CONTEXT + 1:
        text += base
    return tok.encode(text)


def hf_worker(model_dir, model, threads):
    """Runs in the child: measures transformers and prints one JSON line."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    torch.set_num_threads(threads)
    torch.set_num_interop_threads(1)
    file = FILES[model]
    tok = AutoTokenizer.from_pretrained(model_dir, gguf_file=file)
    m = AutoModelForCausalLM.from_pretrained(model_dir, gguf_file=file, dtype=torch.float32)
    m.eval()
    ids = prompt_ids(tok)
    out = {"torch": torch.__version__, "threads": torch.get_num_threads()}
    with torch.inference_mode():
        x = torch.tensor([ids[:PREFILL_N]])
        m(input_ids=x, use_cache=False)  # warm-up
        best = float("inf")
        for _ in range(3):
            t0 = time.perf_counter()
            m(input_ids=x, use_cache=False)
            best = min(best, time.perf_counter() - t0)
        out["prefill_tok_s"] = PREFILL_N / best

        ctx = torch.tensor([ids[: DECODE_CONTEXT - 1]])
        r = m(input_ids=ctx, use_cache=True)
        past = r.past_key_values
        t0 = time.perf_counter()
        for i in range(DECODE_STEPS):
            nxt = torch.tensor([[ids[DECODE_CONTEXT - 1 + i]]])
            r = m(input_ids=nxt, past_key_values=past, use_cache=True)
            past = r.past_key_values
        out["decode_full_tok_s"] = DECODE_STEPS / (time.perf_counter() - t0)

        steps = 2
        t0 = time.perf_counter()
        for i in range(steps):
            m(input_ids=torch.tensor([ids[: DECODE_CONTEXT + i]]), use_cache=False)
        out["decode_none_tok_s"] = steps / (time.perf_counter() - t0)
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    print(json.dumps(out))


def run_hf(args):
    cmd = [sys.executable, os.path.abspath(__file__), "--hf-worker", "--model", args.model,
           "--threads", str(args.threads), "--model-dir", args.model_dir]
    res = subprocess.run(cmd, capture_output=True, text=True)
    if res.returncode != 0:
        sys.exit(f"transformers run failed:\n{res.stderr[-4000:]}")
    return json.loads(res.stdout.strip().splitlines()[-1])


def run_attnlab(args):
    env = dict(os.environ, ATTNLAB_BENCH_THREADS=str(args.threads), ATTNLAB_MODELS=args.model_dir)
    cmd = [args.bench, f"--benchmark_filter=/{args.model}/", "--benchmark_format=json"]
    res = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if res.returncode != 0:
        sys.exit(f"bench failed:\n{res.stderr[-4000:]}")
    rows = {b["name"].split("/")[0]: b for b in json.loads(res.stdout)["benchmarks"]}
    for name, b in rows.items():
        if b.get("error_occurred"):
            sys.exit(f"bench {name}: {b.get('error_message')}")
    return {
        "prefill_tok_s": rows["Prefill"]["tokens_per_s"],
        "decode_full_tok_s": rows["DecodeFull"]["tokens_per_s"],
        "decode_none_tok_s": rows["DecodeNone"]["tokens_per_s"],
        "peak_rss_mb": max(b["peak_rss_MB"] for b in rows.values()),
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="smollm2", choices=sorted(FILES))
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--bench", default=os.path.join(ROOT, "build", "tests", "bench"))
    ap.add_argument("--model-dir", default=os.environ.get(
        "ATTNLAB_MODELS", os.path.expanduser("~/.cache/attnlab/models")))
    ap.add_argument("--hf-worker", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.hf_worker:
        return hf_worker(args.model_dir, args.model, args.threads)
    if not os.path.exists(os.path.join(args.model_dir, FILES[args.model])):
        sys.exit(f"model not downloaded: {os.path.join(args.model_dir, FILES[args.model])}")

    load = os.getloadavg()[0]
    ours = run_attnlab(args)
    hf = run_hf(args)
    print(f"model {args.model}, {args.threads} threads, torch {hf['torch']}, "
          f"load average {load:.2f} (before) / {os.getloadavg()[0]:.2f} (after)")
    print(f"{'':24}{'attnlab':>12}{'transformers':>14}{'ratio':>9}  goal")
    goals = {"prefill_tok_s": ">= 1.0", "decode_full_tok_s": ">= 2.0",
             "decode_none_tok_s": "", "peak_rss_mb": "<= 1024 MB" if args.model == "smollm2" else ""}
    for key, label in (("prefill_tok_s", "prefill tok/s (N=256)"),
                       ("decode_full_tok_s", "decode tok/s (ctx 512)"),
                       ("decode_none_tok_s", "decode tok/s, no cache"),
                       ("peak_rss_mb", "peak RSS MB")):
        ratio = ours[key] / hf[key]
        print(f"{label:24}{ours[key]:12.2f}{hf[key]:14.2f}{ratio:8.2f}x  {goals[key]}")


if __name__ == "__main__":
    main()
