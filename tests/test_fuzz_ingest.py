"""Hostile input, fuzzed: every file is accepted exactly as its source says, or refused in one line.

A generated corpus (``tests/hostile.py``: every format and compression, mutated at the byte and the
record level) is ingested file by file into one real store. ``tests/oracle.py`` decides from
Python's own readers what must happen. Each case ends in one of:

- accepted exactly: the oracle accepts and the stored raw records and fields equal the source's;
- refused cleanly: a ``CurateError`` of one line naming the file and the fix, the store file
  byte-for-byte unchanged;
- a traceback (any other exception), mangled (stored but not equal, or stored though the oracle
  refuses) or a false refusal (refused though the oracle accepts): each a failure.

Figures: ``python -m pytest -q -s tests/test_fuzz_ingest.py`` prints them per tier.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from typer.testing import CliRunner

import hostile
import oracle
from curate.cli import app
from curate.errors import CurateError
from curate.ingest import ingest, readers
from curate.store.workspace import Workspace

FAST_CASES = 250
SLOW_CASES = 1_750  # with the fast tier: 2,000 files


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _stored(ws: Workspace, dataset: str) -> list[tuple]:
    with ws.connect() as con:
        rows = con.execute("""SELECT e.raw, e.text, e.label FROM examples e JOIN datasets d ON d.id = e.dataset_id
                              WHERE d.name = ? ORDER BY e.id""", [dataset]).fetchall()
    return [(json.loads(raw), text, label) for raw, text, label in rows]


def _delimiter(case: hostile.Case) -> str | None:
    if case.format != "csv":
        return None
    try:
        return readers.csv_header(readers.detect(case.path))[1]
    except CurateError:
        return None


def judge(ws: Workspace, case: hostile.Case, dataset: str, before: str | None = None) -> tuple[str, str]:
    """Ingest one case; ``(verdict, detail)`` with verdict accepted|refused|traceback|mangled|false_refusal.

    ``before``: the store file's sha256 before the case (computed here if not given)."""
    try:
        expected = oracle.expect(case, _delimiter(case))
    except oracle.Refuse as why:
        expected, reason = None, ("either: " if isinstance(why, oracle.Either) else "") + str(why)
    before = before or _sha(ws.db_path)
    try:
        ingest(ws, [case.path], dataset, task="classification")
    except CurateError as exc:
        message = str(exc)
        root = str(case.path)
        clean = ("\n" not in message and message.startswith(root) and " — fix: " in message
                 and _sha(ws.db_path) == before)
        if not clean:
            return "mangled", f"unclean refusal: {message!r}"
        return ("refused", message) if expected is None else ("false_refusal", message)
    except Exception as exc:  # noqa: BLE001  what the fuzzing looks for
        return "traceback", f"{type(exc).__name__}: {exc}"
    if expected is None:
        either = reason.startswith("either: ")
        return ("accepted", "") if either else ("mangled", f"accepted although {reason}")
    got = _stored(ws, dataset)
    want = [(rec, text, label) for rec, text, label in expected]
    if got != want:
        return "mangled", f"stored {got[:3]!r} != source {want[:3]!r}"
    return "accepted", ""


def run_corpus(tmp_path: Path, seed: int, n: int) -> tuple[Counter, list]:
    rng = random.Random(seed)
    ws = Workspace(tmp_path / "ws")
    base = tmp_path / "base.jsonl"
    base.write_text('{"text": "base", "label": "pos"}\n')
    ingest(ws, [base], "base")
    files = tmp_path / "files"
    files.mkdir()
    bases = hostile.hf_bases(tmp_path)
    counts: Counter = Counter()
    failures = []
    sha = _sha(ws.db_path)
    for i in range(n):
        case = hostile.case(rng, files, i, bases)
        verdict, detail = judge(ws, case, f"d{i}", sha)
        if verdict != "refused":
            sha = _sha(ws.db_path)
        counts[verdict] += 1
        counts[f"{case.format}{case.compression}"] += 1
        if verdict not in ("accepted", "refused"):
            failures.append((verdict, case.path.name, detail[:300]))
    return counts, failures


def _report(counts: Counter, failures: list, n: int) -> None:
    print(f"\nfuzz: tried {n} / refused cleanly {counts['refused']} / accepted exactly {counts['accepted']} / "
          f"tracebacks {counts['traceback']} / mangled {counts['mangled']} / false refusals {counts['false_refusal']}")
    print("  by format: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())
                                       if k not in ("refused", "accepted", "traceback", "mangled", "false_refusal")))
    assert not failures, "\n".join(map(str, failures[:15]))


def test_fuzzed_corpus_is_accepted_exactly_or_refused_cleanly(tmp_path) -> None:
    counts, failures = run_corpus(tmp_path, seed=14, n=FAST_CASES)
    _report(counts, failures, FAST_CASES)
    assert counts["accepted"] > FAST_CASES // 10 and counts["refused"] > FAST_CASES // 10


@pytest.mark.slow
@pytest.mark.timeout(1800)  # ~1 min on 2 idle cores; a loaded machine is slower
def test_more_fuzzed_corpus(tmp_path) -> None:
    counts, failures = run_corpus(tmp_path, seed=1414, n=SLOW_CASES)
    _report(counts, failures, SLOW_CASES)


def test_cli_sample_never_prints_a_traceback(tmp_path) -> None:
    """A sample through the CLI's guarded entry: exit 0, or exit 1 with exactly one ``error:`` line."""
    rng = random.Random(7)
    files = tmp_path / "files"
    files.mkdir()
    bases = hostile.hf_bases(tmp_path)
    runner = CliRunner()
    codes = Counter()
    for i in range(30):
        case = hostile.case(rng, files, i, bases)
        result = runner.invoke(app, ["-w", str(tmp_path / "ws"), "ingest", str(case.path), "-d", f"d{i}",
                                     "--task", "classification"])
        codes[result.exit_code] += 1
        assert "Traceback" not in result.output and result.exception is None or isinstance(result.exception, SystemExit)
        if result.exit_code:
            lines = [ln for ln in result.stderr.splitlines() if ln.strip()]
            assert result.exit_code == 1 and len(lines) == 1 and lines[0].startswith("error: "), result.stderr
            assert "details in" not in lines[0], lines[0]  # not the crash-log line of the guard
    assert codes[0] and codes[1]


record = st.fixed_dictionaries(
    {"text": st.text(max_size=30)},
    optional={"label": st.one_of(st.none(), st.text(max_size=6)),
              "extra": st.recursive(st.none() | st.booleans() | st.integers(-2**63, 2**63 - 1) | st.floats(allow_nan=False)
                                    | st.text(max_size=8),
                                    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3),
                                    max_leaves=8)})


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(record, min_size=1, max_size=8), junk=st.binary(max_size=6), at=st.integers(0, 10_000),
       fmt=st.sampled_from(["jsonl", "json"]))
def test_hypothesis_records_with_injected_bytes(tmp_path_factory, rows, junk, at, fmt) -> None:
    """Hypothesis records, serialized, with a few arbitrary bytes injected anywhere."""
    folder = tmp_path_factory.mktemp("hyp")
    text = ("\n".join(json.dumps(r) for r in rows) + "\n" if fmt == "jsonl"
            else json.dumps(rows, indent=1)).encode()
    at %= len(text) + 1
    path = folder / f"h.{fmt}"
    path.write_bytes(text[:at] + junk + text[at:])
    ws = Workspace(folder / "ws")
    ws_base = folder / "b.jsonl"
    ws_base.write_text('{"text": "base"}\n')
    ingest(ws, [ws_base], "base")
    verdict, detail = judge(ws, hostile.Case(path, fmt, "", "hypothesis"), "h")
    assert verdict in ("accepted", "refused"), (verdict, detail, path.read_bytes()[:300])
