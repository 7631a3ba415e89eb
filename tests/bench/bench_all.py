#!/usr/bin/env python3
"""One table of speed ratios from one run (issue 12, item 7); scripts/bench runs it.

Every figure is a ratio between two programs measured in this run, alternating, on the same
GGUF file, the same prompt (tests/bench/prompt.txt repeated) and the same thread count:
  attnlab (build/tests/bench, build/attnlab) against llama.cpp (llama-cpp-python in the
  benchmark's own venv): prefill 256 and 512 tokens, decode at context 512, peak RSS;
  attnlab's exact path against transformers (float32, PyTorch CPU): prefill 256, decode;
  slider -> live attention view (`attnlab live-bench`), SmolLM2 at N = 128 and 512;
  attention alone at N = 16384 (SmolLM2's shapes), causal and a 512-key window, against
  torch's scaled_dot_product_attention with the equivalent dense mask;
  the share of this machine's fp32 / bf16 / int8 peak (tests/bench/bench_peak.cpp) that
  prefill reaches.
Each program runs in its own process (its peak RSS is its own), each side `--rounds` times,
alternating; a figure is the best round of each side. Speeds are per wall-clock second; the
"per CPU-s" columns divide by the CPU time of the whole process instead, the steadier figure
when neighbours load the machine.
"""
import argparse
import json
import os
import re
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
FILES = {"smollm2": "SmolLM2-135M-Instruct.Q4_1.gguf", "gemma3": "gemma-3-270m-q4_k_m.gguf"}
DECODE_CONTEXT = 512
DECODE_STEPS = 16


def prompt_text():
    with open(os.path.join(HERE, "prompt.txt"), encoding="utf-8") as f:
        return f.read()


# ---------------------------------------------------------------- workers (child processes)

def llama_worker(path, threads, extra_bufts=True):
    import llama_cpp
    from llama_cpp import Llama

    if not extra_bufts:
        # ggml's extra buffer types hold its repacked and AMX weights; a build whose AMX
        # kernels fault (a VM that lists AMX but does not grant its state) runs without them.
        default_params = llama_cpp.llama_model_default_params

        def params():
            p = default_params()
            p.use_extra_bufts = False
            return p

        llama_cpp.llama_model_default_params = params
        llama_cpp.llama.llama_cpp.llama_model_default_params = params

    llm = Llama(model_path=path, n_threads=threads, n_threads_batch=threads, n_ctx=1024,
                n_batch=512, n_ubatch=512, verbose=False)
    base, text = prompt_text(), ""
    while len(llm.tokenize(text.encode(), add_bos=True)) <= DECODE_CONTEXT + DECODE_STEPS:
        text += base
    ids = llm.tokenize(text.encode(), add_bos=True)
    out = {}
    c_start = time.process_time()
    for n in (256, 512):
        best, best_cpu = 0.0, 0.0
        for _ in range(3):
            llm.reset()
            t0, c0 = time.perf_counter(), time.process_time()
            llm.eval(ids[:n])
            best = max(best, n / (time.perf_counter() - t0))
            best_cpu = max(best_cpu, n / (time.process_time() - c0))
        out[f"prefill{n}"], out[f"prefill{n}_cpu"] = best, best_cpu
    llm.reset()
    llm.eval(ids[: DECODE_CONTEXT - 1])
    t0, c0 = time.perf_counter(), time.process_time()
    for i in range(DECODE_STEPS):
        llm.eval([ids[DECODE_CONTEXT - 1 + i]])
    out["decode"] = DECODE_STEPS / (time.perf_counter() - t0)
    out["decode_cpu"] = DECODE_STEPS / (time.process_time() - c0)
    out["rss"] = peak_rss_mb()
    out["cpu_s"] = time.process_time() - c_start
    print(json.dumps(out))


def sdpa_worker(n, window, threads):
    """torch SDPA with the dense boolean mask, one query head at a time (a [1, N, N] score
    matrix; all nine at once would need ~10 GB at N = 16k). Best of two, seconds."""
    import torch
    import torch.nn.functional as F

    torch.set_num_threads(threads)
    g = torch.Generator().manual_seed(42)
    q = torch.randn(1, 9, n, 64, generator=g)
    k = torch.randn(1, 3, n, 64, generator=g)
    v = torch.randn(1, 3, n, 64, generator=g)
    i = torch.arange(n)
    mask = i[:, None] >= i[None, :]
    if window > 0:
        mask &= (i[:, None] - i[None, :]) < window  # window keys including self
    best = 1e30
    with torch.inference_mode():
        for _ in range(2):
            t0 = time.perf_counter()
            for h in range(9):
                F.scaled_dot_product_attention(q[:, h:h + 1], k[:, h // 3:h // 3 + 1],
                                               v[:, h // 3:h // 3 + 1], attn_mask=mask,
                                               scale=0.125)
            best = min(best, time.perf_counter() - t0)
    print(json.dumps({"seconds": best, "torch": torch.__version__}))


# ---------------------------------------------------------------- runners

def run_json(cmd, env=None):
    res = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if res.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{res.stderr[-3000:]}")
    return res.stdout


def bench_rows(args, pattern, threads):
    env = dict(os.environ, ATTNLAB_BENCH_THREADS=str(threads), ATTNLAB_MODELS=args.model_dir)
    out = run_json([args.bench, f"--benchmark_filter={pattern}", "--benchmark_format=json"], env)
    rows = {}
    for b in json.loads(out)["benchmarks"]:
        if b.get("error_occurred"):
            raise RuntimeError(f"bench {b['name']}: {b.get('error_message')}")
        rows[b["name"]] = b
    return rows


def attnlab_model(args, model, threads):
    rows = bench_rows(args, f"^(Prefill|Prefill512|DecodeFull)/{model}/", threads)
    get = lambda p: next(b for n, b in rows.items() if n.startswith(p + "/"))  # noqa: E731
    # The drafts in a process of their own, so that their buffers stay out of the peak RSS.
    drafts = bench_rows(args, f"^Prefill512Draft/{model}/", threads)
    draft = lambda tag: next((b["tokens_per_cpu_s"] for n, b in drafts.items()  # noqa: E731
                              if n.startswith(f"Prefill512Draft/{model}/{tag}/")), 0)
    return {"draft_int8_cpu": draft("int8"), "draft_bf16_cpu": draft("bf16"),
            "prefill256": get("Prefill")["tokens_per_s"],
            "prefill256_cpu": get("Prefill")["tokens_per_cpu_s"],
            "prefill512": get("Prefill512")["tokens_per_s"],
            "prefill512_cpu": get("Prefill512")["tokens_per_cpu_s"],
            "decode": get("DecodeFull")["tokens_per_s"],
            "decode_cpu": get("DecodeFull")["tokens_per_cpu_s"],
            "rss": max(b["peak_rss_MB"] for b in rows.values())}


def child(args, *extra):
    return json.loads(run_json([sys.executable, os.path.abspath(__file__), *extra,
                                "--model-dir", args.model_dir]).strip().splitlines()[-1])


def llama_child(args, path, threads, notes):
    """llama.cpp as built; when that process crashes, again without ggml's extra buffer types
    (the table then says so: its repacked Q4_0/Q4_K/Q8_0 kernels are off too)."""
    cmd = ["--llama-worker", path, "--worker-threads", str(threads)]
    try:
        return child(args, *cmd)
    except RuntimeError:
        note = ("llama.cpp crashed with its extra buffer types (AMX / repacked weights); its "
                "figures are without them (use_extra_bufts=False).")
        if note not in notes:
            notes.append(note)
        return child(args, *cmd, "--no-extra-bufts")


def best_of(runs):
    """Best round per key: the highest speed, the lowest RSS and time."""
    out = {}
    for k in runs[0]:
        vals = [r[k] for r in runs]
        lowest = k in ("rss", "seconds") or str(k).startswith("ms_")
        out[k] = min(vals) if lowest else max(vals)
    return out


def gguf_facts(path, n):
    """For a prefill of n tokens: multiply-adds x 2 per token (every matrix of every layer
    once, plus Q.K and P.V over the n/2 keys a causal query sees on average, n <= every
    window); and the bytes one decode step must read from memory: every layer matrix and the
    output matrix (the token embedding where the model ties them), as stored in the file."""
    import gguf

    r = gguf.GGUFReader(path)
    layer_mats = [t for t in r.tensors if t.name.startswith("blk.") and len(t.shape) == 2]
    mats = sum(int(t.n_elements) for t in layer_mats)
    arch = r.fields["general.architecture"].contents()
    layers = int(r.fields[f"{arch}.block_count"].contents())
    q_dim = next(int(t.shape[1]) for t in r.tensors if t.name == "blk.0.attn_q.weight")
    by_name = {t.name: t for t in r.tensors}
    head = by_name.get("output.weight") or by_name["token_embd.weight"]
    flops = 2.0 * mats + layers * 2 * 2 * q_dim * (n / 2)
    decode_bytes = sum(int(t.n_bytes) for t in layer_mats) + int(head.n_bytes)
    return flops, decode_bytes


def live_bench(args):
    """The live session uses every core (it has no thread flag)."""
    env = dict(os.environ, ATTNLAB_MODELS=args.model_dir)
    out = run_json([args.attnlab, "live-bench", "--model", "smollm2", "--n", "128,512"], env)
    best = {}
    # The medians line per N: the draft view, the exact view after it, the exact view of a
    # session without drafts, and the first layer on screen.
    for m in re.finditer(r"N=(\d+), medians of \d+: draft (-?\d+) ms, exact after the draft "
                         r"(-?\d+) ms, exact alone (-?\d+) ms; first layer (-?\d+) ms", out):
        n = int(m.group(1))
        for i, key in enumerate(("draft", "exact", "alone", "first")):
            best[f"ms_{key}_{n}"] = float(m.group(2 + i))
    return best


# ---------------------------------------------------------------- table

def ratio(a, b):
    return f"{a / b:.2f}x" if a and b else "n/a"


class Table:
    """The one table: | figure | threads | attnlab | reference | ratio | ratio per CPU-s | goal |"""

    def __init__(self, say):
        self.say = say
        say("| figure | threads | attnlab | reference | ratio | ratio per CPU-s | goal |")
        say("|---|---|---|---|---|---|---|")

    def row(self, figure, threads, ours, ref, r, r_cpu="", goal=""):
        self.say(f"| {figure} | {threads} | {ours} | {ref} | {r} | {r_cpu} | {goal} |")


def peak_rows(args):
    peak = {}
    for n, b in bench_rows(args, "^(Peak|Qgemm|Sgemm)/", 1).items():
        name = n.split("/iterations")[0]
        peak[name] = (b.get("gflops_per_cpu_s") or b.get("gops_per_cpu_s") or
                      b.get("gb_per_s"))
    return peak


def llama_rows(args, table, model, threads, peak, skip):
    """attnlab against llama.cpp; returns attnlab's figures per thread count."""
    path = os.path.join(args.model_dir, FILES[model])
    flops, decode_bytes = gguf_facts(path, 512)
    got = {}
    for t in threads:
        ours, theirs = [], []
        for _ in range(args.rounds):
            ours.append(attnlab_model(args, model, t))
            if "llama" not in skip:
                theirs.append(llama_child(args, path, t, args.notes))
        a = best_of(ours)
        b = best_of(theirs) if theirs else {k: 0 for k in a}
        got[t] = a
        for key, label, goal in (("prefill256", "prefill 256", "≥ 1.5x at 2 threads"),
                                 ("prefill512", "prefill 512", "≥ 1.5x at 2 threads"),
                                 ("decode", "decode at 512", "≥ 1.2x at 2 threads")):
            table.row(f"{model} {label}, tok/s", t, f"{a[key]:.1f}", f"llama.cpp {b[key]:.1f}",
                      ratio(a[key], b[key]), ratio(a[key + "_cpu"], b.get(key + "_cpu", 0)),
                      goal)
        bw = peak.get(f"Peak/read/{t}")
        if bw:
            # A decode step reads every weight once: tok/s x bytes a token over the measured
            # read bandwidth is the share of the memory limit reached.
            share = lambda tok_s: 100 * tok_s * decode_bytes / 1e9 / bw  # noqa: E731
            table.row(f"{model} decode, share of the read bandwidth ({decode_bytes / 1e6:.0f} MB"
                      f" a token, {bw:.1f} GB/s measured)", t, f"{share(a['decode']):.0f}%",
                      f"llama.cpp {share(b['decode']):.0f}%", ratio(a["decode"], b["decode"]))
        table.row(f"{model} peak RSS, MB", t, f"{a['rss']:.0f}", f"llama.cpp {b['rss']:.0f}",
                  ratio(a["rss"], b["rss"]), "", "≤ 1.5x")
        fp32 = peak.get("Peak/fp32")
        if fp32:
            table.row(f"{model} prefill 512, exact (fp32), GFLOP/s per CPU-s", t,
                      f"{a['prefill512_cpu'] * flops / 1e9:.0f}", f"fp32 peak {fp32:.0f} a core",
                      "", f"{100 * a['prefill512_cpu'] * flops / 1e9 / fp32:.0f}% of the peak",
                      "≥ 85%")
        for tag, unit in (("int8", "int8"), ("bf16", "bf16")):
            pk = peak.get(f"Peak/{unit}")
            if pk and a.get(f"draft_{tag}_cpu"):
                g = a[f"draft_{tag}_cpu"] * flops / 1e9
                table.row(f"{model} prefill 512, {tag} draft, GOP/s per CPU-s", t, f"{g:.0f}",
                          f"{unit} peak {pk:.0f} a core", "", f"{100 * g / pk:.0f}% of the peak")
    return got


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--models", default="smollm2,gemma3")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--attention-n", type=int, default=16384)
    ap.add_argument("--skip", default="", help="comma list of: llama,hf,live,attention,peak")
    ap.add_argument("--bench", default=os.path.join(ROOT, "build", "tests", "bench"))
    ap.add_argument("--attnlab", default=os.path.join(ROOT, "build", "attnlab"))
    ap.add_argument("--model-dir", default=os.environ.get(
        "ATTNLAB_MODELS", os.path.expanduser("~/.cache/attnlab/models")))
    ap.add_argument("--llama-worker", help=argparse.SUPPRESS)
    ap.add_argument("--sdpa-worker", help=argparse.SUPPRESS)
    ap.add_argument("--worker-threads", type=int, default=1, help=argparse.SUPPRESS)
    ap.add_argument("--no-extra-bufts", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.llama_worker:
        return llama_worker(args.llama_worker, args.worker_threads, not args.no_extra_bufts)
    if args.sdpa_worker:
        n, w = map(int, args.sdpa_worker.split(","))
        return sdpa_worker(n, w, args.worker_threads)

    skip = set(filter(None, args.skip.split(",")))
    threads = [int(t) for t in args.threads.split(",")]
    models = [m for m in args.models.split(",") if os.path.exists(
        os.path.join(args.model_dir, FILES[m]))]
    lines = []
    say = lambda s="": (print(s, flush=True), lines.append(s))  # noqa: E731
    load0 = os.getloadavg()[0]
    args.notes = []

    peak = peak_rows(args) if "peak" not in skip else {}
    table = Table(say)
    if peak:
        for t in (1, 2):
            if peak.get(f"Peak/read/{t}"):
                table.row("memory read bandwidth, GB/s (the decode limit)", t,
                          f"{peak[f'Peak/read/{t}']:.1f}", "", "")
    got = {m: llama_rows(args, table, m, threads, peak, skip) for m in models}

    if "hf" not in skip:
        t = max(threads)
        for model in models:
            a = got[model][t]
            hf = json.loads(run_json([sys.executable, os.path.join(HERE, "compare_transformers.py"),
                                      "--hf-worker", "--model", model, "--threads", str(t),
                                      "--model-dir", args.model_dir]).strip().splitlines()[-1])
            for key, hkey, label in (("prefill256", "prefill_tok_s", "prefill 256, tok/s"),
                                     ("decode", "decode_full_tok_s", "decode at 512, tok/s")):
                table.row(f"{model} {label}, exact path", t, f"{a[key]:.1f}",
                          f"transformers fp32 {hf[hkey]:.1f}", ratio(a[key], hf[hkey]))
            table.row(f"{model} peak RSS, MB", t, f"{a['rss']:.0f}",
                      f"transformers {hf['peak_rss_mb']:.0f}", ratio(a["rss"], hf["peak_rss_mb"]))

    if "live" not in skip:
        best = best_of([live_bench(args) for _ in range(args.rounds)])
        nan = float("nan")
        # The ratio is goal / measured: 1.00x or more meets the goal.
        for n, key, label, goal in ((128, "draft", "slider -> draft view", 60),
                                    (128, "alone", "slider -> exact view (no draft)", 0),
                                    (512, "first", "slider -> first layer on screen", 50),
                                    (512, "draft", "slider -> draft view", 250),
                                    (512, "exact", "slider -> exact view after the draft", 0),
                                    (512, "alone", "slider -> exact view (no draft)", 700)):
            ms = best.get(f"ms_{key}_{n}", nan)
            table.row(f"smollm2 live, N = {n}, {label}, ms", os.cpu_count(), f"{ms:.0f}",
                      f"goal {goal} ms" if goal else "", ratio(goal, ms) if goal else "",
                      "", f"≤ {goal} ms" if goal else "")

    if "attention" not in skip:
        t = max(threads)
        rows = bench_rows(args, f"^BM_attention_long/{args.attention_n}/", t)
        for w, label, goal in ((0, "causal", "≥ 1x"), (512, "window 512", "≥ 12x")):
            ms = next(b["real_time"] for n, b in rows.items()
                      if n.startswith(f"BM_attention_long/{args.attention_n}/{w}/"))
            sd = best_of([child(args, "--sdpa-worker", f"{args.attention_n},{w}",
                                "--worker-threads", str(t))])["seconds"] * 1e3
            table.row(f"attention alone, N = {args.attention_n}, SmolLM2 shapes, {label}, ms",
                      t, f"{ms:.0f}", f"torch SDPA + dense mask {sd:.0f}", ratio(sd, ms), "",
                      goal)

    fp32 = peak.get("Peak/fp32")
    if fp32:
        for name, v in sorted(peak.items()):
            if name.startswith(("Qgemm", "Sgemm")):
                table.row(f"{name}, 512 rows, GFLOP/s per CPU-s", 1, f"{v:.0f}",
                          f"fp32 peak {fp32:.0f}", "", f"{100 * v / fp32:.0f}% of the peak")
    for note in args.notes:
        say()
        say(note)
    say()
    say(f"load average {load0:.1f} before, {os.getloadavg()[0]:.1f} after; {args.rounds} rounds, "
        f"best of each side; {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    out = os.path.join(ROOT, "build", "bench_table.md")
    with open(out, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    print(f"(table also in {out})")


if __name__ == "__main__":
    main()
