#!/usr/bin/env python3
"""Writes tests/golden/tokenizer.json: reference token ids for the C++ tokenizer tests.

The reference is Hugging Face `transformers` building its tokenizer from the *same* GGUF
files the app loads (AutoTokenizer.from_pretrained(dir, gguf_file=...)), so no hub download
is needed. The vocabularies are not copied here: the C++ test reads them from the GGUF.

SmolLM2 gets a second set of ids. transformers builds a GPT-2 style pre-tokenizer from the
GGUF, but SmolLM2's own tokenizer.json (and llama.cpp's "smollm" pre-tokenizer) first split
every digit on its own. The two disagree only where a whitespace run meets a digit
("a  1", "\\n\\n1."), and the model was trained with the second, so we record both.

Run: /opt/golden-venv/bin/python tests/golden/make_tokenizer_golden.py [model_dir]
"""
import copy
import json
import os
import random
import sys
from importlib.metadata import version

from tokenizers import pre_tokenizers
from transformers import AutoTokenizer

MODEL_DIR = sys.argv[1] if len(sys.argv) > 1 else os.path.expanduser("~/.cache/attnlab/models")
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "tokenizer.json")
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MODELS = {
    m["name"]: m["file"]
    for m in json.load(open(os.path.join(ROOT, "assets", "models.json")))["models"]
}  # the model catalog: short name -> file name

# Each string targets one rule of the pre-tokenizers or the BPE.
STRINGS = [
    "",
    "Hello world",
    "Hello, World! How are you today?",
    " leading space",
    "  two leading spaces",
    "trailing space ",
    "multiple   spaces   inside    here",
    " ",
    "   ",
    " " * 40 + "forty spaces",
    "line1\nline2\n\nline3\n\n\n",
    "\n",
    "windows\r\nline\r\n",
    "tabs\tand\t\ttabs\t\t\t end",
    "12345 1234567890 3.14159 1,000,000 2026-11-22",
    "a  1",
    "\n\n1. First item\n2. Second item\n  3. indented",
    "Mixed123abc 456def x2y",
    "it's I'm we'll they've don't He'd SHE'S",
    "naïve café résumé Zürich, Ångström",
    "e\u0301 combining accent",
    "日本語のテキスト、中文文本，한국어 텍스트",
    "Ελληνικά, русский текст, עברית, العربية",
    "emoji 😀👍🏽 👨‍👩‍👧‍👦 flags 🇩🇪",
    "rare: \u0f0f\u10fe \U0001F9EC \U00010348 \u2603 \ue000 𝔘𝔫𝔦𝔠𝔬𝔡𝔢",
    "ﬁ ligature ﬀ ™ ½ ² ① ⅷ",
    "\u00a0nbsp\u2003em space\u3000ideographic",
    "\x01\x02 control chars \x7f",
    "def f(x):\n    return x * 2  # comment\n\nclass A:\n\tpass\n",
    "if (a != b) { c += d[i]; }  // C++ <vector>",
    "HTML <table><tr><td>x</td></tr></table>",
    "<|im_start|>user\nHi there<|im_end|>\n<|im_start|>assistant\n",
    "<start_of_turn>user\nHi there<end_of_turn>\n<start_of_turn>model\n",
    "<bos>explicit bos<eos>",
    "<0x41> literal byte token text",
    "The quick brown fox jumps over the lazy dog. " * 3,
    "Attention is all you need: the Transformer replaces recurrence with self-attention, "
    "letting every position look at every other in a single step. Sliding-window attention "
    "limits each query to the last W keys, so memory stays O(W) per layer while the receptive "
    "field still grows linearly with depth. Grouped-query attention shares one key/value head "
    "among several query heads, which shrinks the KV cache by the group size.",
]


# Random mixtures of the units above catch what hand-picked strings miss (class edges such as
# U+000B or U+001C, which Python and Oniguruma classify differently).
UNITS = list("abcXYZ019_.,;:!?'\"()[]{}<>/\\+-*=#@$%^&|~`") + [
    " ", "  ", "   ", "\t", "\n", "\n\n", "\r\n", "\x0b", "\x0c", "\x1c", "\x85", "\xa0",
    "\u2003", "\u3000", "'s", "'ll", "'T", "the", " the", "ing", "é", "e\u0301", "ß", "Ω",
    "ж", "你", "好", "の", "한", "😀", "👍🏽", "\u200d", "🇩🇪", "\ue000", "\U00010348", "½",
    "٣", "²", "Ⅻ", "<|im_start|>", "<|im_end|>", "<start_of_turn>", "<end_of_turn>", "<bos>",
    "<|im_sta", "<start_of", "\x00", "\x7f", "\t\t", "    ",
]


def random_strings(count, seed=1234):
    rng = random.Random(seed)
    return ["".join(rng.choice(UNITS) for _ in range(rng.randint(1, 40))) for _ in range(count)]


def smollm2_own_pretokenizer(tok):
    """The same vocabulary with SmolLM2's tokenizer.json pre-tokenizer (digits split first)."""
    own = copy.deepcopy(tok.backend_tokenizer)
    own.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Digits(individual_digits=True),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True),
        ]
    )
    return own


def dump(value):
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def main():
    out = {
        "generator": "tests/golden/make_tokenizer_golden.py",
        "versions": {p: version(p) for p in ("transformers", "tokenizers", "gguf", "sentencepiece")},
        "models": {},
    }
    for name, file in MODELS.items():
        path = os.path.join(MODEL_DIR, file)
        if not os.path.exists(path):
            sys.exit(f"model not downloaded: {path}")
        tok = AutoTokenizer.from_pretrained(MODEL_DIR, gguf_file=file)
        own = smollm2_own_pretokenizer(tok) if name == "smollm2" else None
        cases = []
        for text in STRINGS + random_strings(60):
            ids = tok.encode(text)
            case = {
                "text": text,
                "ids": ids,
                "ids_no_special": tok.encode(text, add_special_tokens=False),
                "decoded": tok.decode(ids),
                "pieces": [tok.decode([i]) for i in ids],
            }
            if own is not None:
                case["ids_digits"] = own.encode(text).ids
            cases.append(case)
        out["models"][name] = {"file": file, "cases": cases}
        print(f"{name}: {len(cases)} strings", file=sys.stderr)
    # One case per line keeps the file small and its diffs readable.
    with open(OUT, "w", encoding="utf-8") as f:
        f.write('{"generator":%s,\n"versions":%s,\n"models":{' % (dump(out["generator"]), dump(out["versions"])))
        for m, (name, entry) in enumerate(out["models"].items()):
            f.write('%s\n%s:{"file":%s,"cases":[' % ("," if m else "", dump(name), dump(entry["file"])))
            f.write(",".join("\n" + dump(c) for c in entry["cases"]))
            f.write("]}")
        f.write("}}\n")


if __name__ == "__main__":
    main()
