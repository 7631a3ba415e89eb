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
lower is better), each speed both per wall-clock second and per CPU-second of the process:
on a shared machine the wall figure includes the neighbours' load, and PyTorch's OpenMP
threads lose whole time slices at barriers when other processes hold the cores.
"""
import argparse
import json
import os
import subprocess
import sys
import time


def peak_rss_mb():
    """VmHWM, this process image's own peak RSS: ru_maxrss also counts the parent's RSS at
    fork (Linux keeps it across exec), which inflated it when the parent had grown."""
    with open("/proc/self/status", encoding="ascii") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    return 0.0


HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
FILES = {
    m["name"]: m["file"]
    for m in json.load(open(os.path.join(ROOT, "assets", "models.json")))["models"]
}  # the model catalog: short name -> file name
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
        runs = 3
        t0, c0 = time.perf_counter(), time.process_time()
        for _ in range(runs):
            m(input_ids=x, use_cache=False)
        out["prefill_tok_s"] = runs * PREFILL_N / (time.perf_counter() - t0)
        out["prefill_tok_cpu_s"] = runs * PREFILL_N / (time.process_time() - c0)

        ctx = torch.tensor([ids[: DECODE_CONTEXT - 1]])
        r = m(input_ids=ctx, use_cache=True)
        past = r.past_key_values
        t0, c0 = time.perf_counter(), time.process_time()
        for i in range(DECODE_STEPS):
            nxt = torch.tensor([[ids[DECODE_CONTEXT - 1 + i]]])
            r = m(input_ids=nxt, past_key_values=past, use_cache=True)
            past = r.past_key_values
        out["decode_full_tok_s"] = DECODE_STEPS / (time.perf_counter() - t0)
        out["decode_full_tok_cpu_s"] = DECODE_STEPS / (time.process_time() - c0)

        steps = 2
        t0, c0 = time.perf_counter(), time.process_time()
        for i in range(steps):
            m(input_ids=torch.tensor([ids[: DECODE_CONTEXT + i]]), use_cache=False)
        out["decode_none_tok_s"] = steps / (time.perf_counter() - t0)
        out["decode_none_tok_cpu_s"] = steps / (time.process_time() - c0)
    out["peak_rss_mb"] = peak_rss_mb()
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
    out = {"peak_rss_mb": max(b["peak_rss_MB"] for b in rows.values())}
    for key, row in (("prefill", "Prefill"), ("decode_full", "DecodeFull"),
                     ("decode_none", "DecodeNone")):
        out[key + "_tok_s"] = rows[row]["tokens_per_s"]
        out[key + "_tok_cpu_s"] = rows[row]["tokens_per_cpu_s"]
    return out


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
    print("wall: tokens per second of wall time; cpu: tokens per CPU-second of the process "
          "(all threads), the steadier figure on a loaded machine")
    print(f"{'':30}{'attnlab':>10}{'transformers':>14}{'ratio':>9}  goal")
    goals = {"prefill": ">= 1.0", "decode_full": ">= 2.0", "decode_none": ""}
    for key, label in (("prefill", "prefill tok/s (N=256)"),
                       ("decode_full", "decode tok/s (ctx 512)"),
                       ("decode_none", "decode tok/s, no cache")):
        for kind, suffix in (("wall", "_tok_s"), ("cpu", "_tok_cpu_s")):
            a, b = ours[key + suffix], hf[key + suffix]
            print(f"{label + ', ' + kind:30}{a:10.2f}{b:14.2f}{a / b:8.2f}x  {goals[key]}")
    a, b = ours["peak_rss_mb"], hf["peak_rss_mb"]
    goal = "attnlab <= 1024 MB" if args.model == "smollm2" else ""
    print(f"{'peak RSS MB':30}{a:10.1f}{b:14.1f}{a / b:8.2f}x  {goal}")


if __name__ == "__main__":
    main()
