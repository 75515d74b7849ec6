#!/usr/bin/env python3
"""Regenerate the small demo/test/benchmark subsets in sample_data/ from the shared datasets.

Usage:  python sample_data/make_samples.py [SRC_DIR] [--out OUT_DIR]

SRC_DIR defaults to <repo root>/../shared/data, OUT_DIR to the folder holding this script.
Everything is deterministic (the only randomness is random.Random(7) for messy_reviews.jsonl),
so re-running reproduces the text files byte for byte (the Parquet file's bytes can vary with the
pyarrow version; its contents do not). See PROVENANCE.md for details.
Requires pyarrow (for the Parquet file only).
"""
from __future__ import annotations

import argparse
import csv
import json
import random
import re
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_SRC = HERE.parent.parent / "shared" / "data"


# ---------------------------------------------------------------- helpers
def head_lines(path: Path, n: int) -> list[bytes]:
    """First n raw lines (with their b'\\n'), untouched."""
    out = []
    with path.open("rb") as f:
        for line in f:
            out.append(line)
            if len(out) == n:
                break
    assert len(out) == n, f"{path} has fewer than {n} lines"
    return out


def read_jsonl(path: Path, n: int | None = None) -> list[dict]:
    rows = []
    with path.open(encoding="utf-8") as f:
        for line in f:
            rows.append(json.loads(line))
            if n is not None and len(rows) == n:
                break
    return rows


def write_jsonl(path: Path, rows: list[dict]) -> None:
    with path.open("w", encoding="utf-8", newline="\n") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")


def copy_head(src: Path, dst: Path, n: int) -> None:
    dst.write_bytes(b"".join(head_lines(src, n)))


# ---------------------------------------------------------------- 1-5: plain subsets
def make_trec_csv(src: Path, dst: Path, n: int = 300) -> None:
    rows = read_jsonl(src, n)
    with dst.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, quoting=csv.QUOTE_MINIMAL, lineterminator="\n")
        w.writerow(["idx", "text", "label", "fine_label"])
        for r in rows:
            w.writerow([r["idx"], r["text"], r["label"], r["fine_label"]])


def make_parquet(src: Path, dst: Path, n: int = 200) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = pa.schema([("idx", pa.int64()), ("instruction", pa.string()),
                        ("input", pa.string()), ("response", pa.string())])
    rows = read_jsonl(src, n)
    table = pa.Table.from_pylist([{k: r[k] for k in schema.names} for r in rows], schema=schema)
    pq.write_table(table, dst)


# ---------------------------------------------------------------- 6: chat formats
def user_text(r: dict) -> str:
    return r["instruction"] + ("\n\n" + r["input"] if r["input"] else "")


def make_chat(src: Path, dst_jsonl: Path, dst_sharegpt: Path,
              n_chat: int = 120, n_sharegpt: int = 40) -> None:
    rows = read_jsonl(src, n_chat + n_sharegpt)
    chat = []
    for i, r in enumerate(rows[:n_chat]):
        msgs = [{"role": "system", "content": "You are a helpful assistant."}] if i % 2 == 0 else []
        msgs += [{"role": "user", "content": user_text(r)},
                 {"role": "assistant", "content": r["response"]}]
        chat.append({"id": f"roleplay-{r['idx']}", "messages": msgs})
    write_jsonl(dst_jsonl, chat)

    sharegpt = [{"id": f"sg-{r['idx']}",
                 "conversations": [{"from": "human", "value": user_text(r)},
                                   {"from": "gpt", "value": r["response"]}]}
                for r in rows[n_chat:]]
    dst_sharegpt.write_text(json.dumps(sharegpt, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


# ---------------------------------------------------------------- 7: messy classification rows
# Fake but realistic PII (reserved example domains, 555-01xx phone numbers, private/documentation
# IP ranges, public test card numbers and the standard example IBANs; all checksums valid).
PII_TEMPLATES = [
    "{t} -- email me at jane.doe@example.com",
    "jane.doe@example.com wrote : {t}",
    "{t} ( questions ? mark.t.jones@example.org )",
    "{t} call me on +1 415-555-0132",
    "{t} my cell is (212) 555-0187 , text anytime",
    "reach me at +44 20 7946 0958 : {t}",
    "[client 192.168.1.24] {t}",
    "{t} posted from 203.0.113.57",
    "{t} -- sent from 10.0.0.12 via proxy 198.51.100.7",
    "{t} paid with card 4111 1111 1111 1111",
    "{t} card : 5555-5555-5555-4444 exp 12/27",
    "{t} refund to IBAN GB82WEST12345698765432",
    "{t} please send the refund to DE89 3704 0044 0532 0130 00",
    "{t} -- j.smith@example.net , +1 (650) 555-0199",
    "{t} order #4471 for priya.patel@example.co.uk , card 4242424242424242",
]
SYNONYMS = {"film": "movie", "movie": "film", "good": "fine", "bad": "poor", "story": "plot",
            "funny": "amusing", "great": "terrific", "best": "finest", "director": "filmmaker",
            "characters": "figures", "performances": "acting", "little": "small"}
FILLERS = ["really", "very", "just", "truly", "quite", "so"]
SHORT_ROWS = [("ok", "positive"), ("meh", "negative"), ("wow", "positive"),
              ("nope", "negative"), ("good .", "positive")]


def mojibake(text: str) -> str:
    """UTF-8 bytes mis-decoded as Windows-1252 (Latin-1 fallback): 'é' -> 'Ã©', '’' -> 'â€™'."""
    if text.isascii():  # SST apostrophes are ASCII; make them typographic first so there is something to break
        text = text.replace("'", "\u2019")
    raw = text.encode("utf-8")
    try:
        return raw.decode("cp1252")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def htmlify(text: str, rng: random.Random) -> str:
    words = text.split(" ")
    for op in rng.sample(["bold", "italic", "br", "amp", "quot"], rng.choice([1, 2])):
        alpha = [j for j, w in enumerate(words) if w.isalpha()] or [0]
        i = rng.choice(alpha)  # mark up real words, not punctuation tokens
        if op == "bold":
            words[i] = f"<b>{words[i]}</b>"
        elif op == "italic":
            words[i] = f"<i>{words[i]}</i>"
        elif op == "br":
            words.insert(i, "<br/>")
        elif op == "amp":
            words = ["&amp;" if w == "and" else w for w in words]
            if "&amp;" not in words:  # no "and" to escape: leave a stray non-breaking-space entity
                words[i] += "&nbsp;"
        elif op == "quot":
            words[i] = f"&quot;{words[i]}&quot;"
    if "and" in words and rng.random() < 0.5:  # HTML-escaped ampersand, as in scraped pages
        words = ["&amp;" if w == "and" else w for w in words]
    wrap = rng.choice(["<p>{}</p>", '<div class="review-body">{}</div>', "<span>{}</span>", "{}<br/>"])
    return wrap.format(" ".join(words))


def add_whitespace(text: str, rng: random.Random) -> str:
    words = text.split(" ")
    out = words[0]
    for w in words[1:]:
        out += (rng.choice(["  ", "\t", "   ", " \t ", "\t\t"]) if rng.random() < 0.35 else " ") + w
    if out == text:  # guarantee at least one run of excess whitespace
        out = out.replace(" ", "\t ", 1)
    return rng.choice(["", "  ", "\t"]) + out + rng.choice([" ", "\t", "   ", " \t"])


def near_duplicate(text: str, rng: random.Random) -> str:
    while True:
        words = text.split(" ")
        for op in rng.sample(["swap", "add", "drop", "case", "space"], rng.choice([1, 2])):
            i = rng.randrange(len(words))
            if op == "swap":
                hits = [j for j, w in enumerate(words) if w in SYNONYMS]
                if hits:
                    j = rng.choice(hits)
                    words[j] = SYNONYMS[words[j]]
                else:
                    words.insert(i, rng.choice(FILLERS))
            elif op == "add":
                words.insert(i, rng.choice(FILLERS))
            elif op == "drop" and len(words) > 4:
                del words[i]
            elif op == "case":
                words = [w.capitalize() for w in words] if rng.random() < 0.5 else \
                    [words[0].capitalize()] + words[1:]
            elif op == "space":
                words[i] = words[i] + " "  # -> a double space after joining
        new = " ".join(words)
        if new != text:
            return new


def make_messy(sst_src: Path, pud_src: Path, dst: Path) -> dict[str, list[str]]:
    rng = random.Random(7)
    pool = read_jsonl(sst_src)[400:600]  # disjoint from sst2_sentences.jsonl (rows 0..399)
    items: list[tuple[str, dict]] = []  # (kind, row without id)

    def row(text, label, **key):
        return {"text": text, "label": label, **key}

    # mojibake: every non-ASCII sentence, topped up with sentences that contain an apostrophe
    non_ascii = [r for r in pool if not r["text"].isascii()]
    apos = [r for r in pool if r["text"].isascii() and "'" in r["text"]]
    moji = non_ascii + rng.sample(apos, 15 - len(non_ascii))
    rest = [r for r in pool if r not in moji]
    rng.shuffle(rest)
    html, pii, ws, clean = rest[:15], rest[15:30], rest[30:40], rest[40:90]

    items += [("mojibake", row(mojibake(r["text"]), r["label_text"], src=r["idx"])) for r in moji]
    items += [("html", row(htmlify(r["text"], rng), r["label_text"], src=r["idx"])) for r in html]
    items += [("pii", row(t.format(t=r["text"]), r["label_text"], src=r["idx"]))
              for r, t in zip(pii, rng.sample(PII_TEMPLATES, 15))]
    items += [("whitespace", row(add_whitespace(r["text"], rng), r["label_text"], src=r["idx"])) for r in ws]
    items += [("clean", row(r["text"], r["label_text"], src=r["idx"])) for r in clean]
    # duplicates of clean rows: 20 exact copies and 20 near-copies (disjoint source rows)
    sources = rng.sample(clean, 40)
    items += [("exact_dup", row(r["text"], r["label_text"], src=r["idx"], dup_of=r["idx"])) for r in sources[:20]]
    items += [("near_dup", row(near_duplicate(r["text"], rng), r["label_text"], src=r["idx"], dup_of=r["idx"]))
              for r in sources[20:]]
    items += [("short", row(t, lab)) for t, lab in SHORT_ROWS]
    # non-English: 2 de, 2 fr, 1 es from PUD, different sentences, arbitrary alternating labels
    pud = read_jsonl(pud_src)
    picks, used = [], set()
    for lang, k in [("de", 2), ("fr", 2), ("es", 1)]:
        cands = [r for r in pud if r["lang"] == lang and r["sent_id"] not in used and len(r["text"]) < 140]
        for r in rng.sample(cands, k):
            used.add(r["sent_id"])
            picks.append(r)
    items += [("non_english", row(r["text"], ["positive", "negative"][i % 2], src=r["id"]))
              for i, r in enumerate(picks)]

    rng.shuffle(items)
    out, key, idx_to_id = [], {}, {}
    for n, (kind, r) in enumerate(items):
        rid = f"m-{n}"
        out.append({"id": rid, "text": r["text"], "label": r["label"]})
        if kind == "clean":
            idx_to_id[r["src"]] = rid
        key.setdefault(kind, []).append((rid, r.get("src"), r.get("dup_of")))
    write_jsonl(dst, out)
    # answer key (ids per kind, with source row / duplicated id) for PROVENANCE.md and tests
    return {kind: [f"{rid}<-{src}" + (f"(={idx_to_id[d]})" if d is not None else "")
                   if src is not None else rid for rid, src, d in v] for kind, v in key.items()}


def make_zh(pud_src: Path, dst: Path) -> None:
    """Every Chinese PUD sentence (1,000, Traditional script), text verbatim, in source order."""
    rows = [{"id": r["id"], "sent_id": r["sent_id"], "text": r["text"]} for r in read_jsonl(pud_src)
            if r["lang"] == "zh"]
    assert len(rows) == 1000, f"{pud_src}: expected 1,000 zh rows, found {len(rows)}"
    write_jsonl(dst, rows)


# ---------------------------------------------------------------- spans and preference demos (constructed)
# No NER corpus nor human preference pairs could be had offline under a clear licence, so these two
# files are real GSM8K text with annotations made by a stated rule; they are not gold and not human.
QUANTITY = re.compile(r"(?P<MONEY>\$\d+(?:,\d{3})*(?:\.\d+)?)"
                      r"|(?P<PERCENT>\d+(?:\.\d+)?(?:%| percent\b))"
                      r"|(?P<NUMBER>\d+(?:,\d{3})*(?:\.\d+)?(?:/\d+)?)")


def quantity_spans(text: str) -> list[dict]:
    """Character spans of the numbers written with digits: MONEY ($12.50), PERCENT (20%, 20 percent),
    else NUMBER (48, 1,200, 2.5, 3/4). Numbers written as words are not found."""
    return [{"start": m.start(), "end": m.end(), "label": m.lastgroup} for m in QUANTITY.finditer(text)]


def make_quantities(src: Path, dst: Path, first: int = 200, n: int = 60) -> None:
    rows = read_jsonl(src, first + n)[first:]
    write_jsonl(dst, [{"id": f"gsm8k-train-{r['idx']}", "text": r["instruction"],
                       "spans": quantity_spans(r["instruction"])} for r in rows])


def make_pairs(src: Path, dst: Path, first: int = 260, n: int = 40) -> None:
    rows = read_jsonl(src, first + n + 1)[first:]
    write_jsonl(dst, [{"id": f"gsm8k-train-{a['idx']}", "prompt": a["instruction"], "chosen": a["response"],
                       "rejected": b["response"]} for a, b in zip(rows, rows[1:])])


# ---------------------------------------------------------------- main
def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("src", nargs="?", type=Path, default=DEFAULT_SRC, help="shared data dir")
    ap.add_argument("--out", type=Path, default=HERE, help="output dir (default: this folder)")
    ap.add_argument("--key", action="store_true", help="print the messy_reviews answer key")
    a = ap.parse_args()
    src, out = a.src.resolve(), a.out.resolve()
    out.mkdir(parents=True, exist_ok=True)

    copy_head(src / "sst2/train_sentences.jsonl", out / "sst2_sentences.jsonl", 400)
    copy_head(src / "sst2/dev.jsonl", out / "sst2_dev.jsonl", 200)
    make_trec_csv(src / "trec/train.jsonl", out / "trec_questions.csv", 300)
    copy_head(src / "gsm8k/train.jsonl", out / "gsm8k_train.jsonl", 200)
    copy_head(src / "gsm8k/test.jsonl", out / "gsm8k_test.jsonl", 100)
    make_parquet(src / "gpteacher/codegen_instruct.jsonl", out / "gpteacher_codegen.parquet", 200)
    make_chat(src / "gpteacher/roleplay_instruct.jsonl", out / "chat_sample.jsonl", out / "chat_sharegpt.json")
    key = make_messy(src / "sst2/train_sentences.jsonl", src / "langid_pud/pud_sentences.jsonl",
                     out / "messy_reviews.jsonl")
    make_zh(src / "langid_pud/pud_sentences.jsonl", out / "zh_pud.jsonl")
    make_quantities(src / "gsm8k/train.jsonl", out / "gsm8k_quantities.jsonl")
    make_pairs(src / "gsm8k/train.jsonl", out / "gsm8k_pairs.jsonl")
    for kind, ids in key.items():
        print(f"{kind} ({len(ids)})" + (": " + ", ".join(ids) if a.key else ""))
    print(f"wrote sample files to {out}")


if __name__ == "__main__":
    main()
