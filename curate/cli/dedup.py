"""``curate dedup [run] DATASET [options]`` and ``curate dedup export DATASET --out FILE.jsonl``.

``run`` is the default sub-command, so ``curate dedup DATASET`` finds duplicates; a dataset named like a
sub-command alone (``curate dedup export``) is deduped (see ``_common.DefaultCommandGroup``).
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Optional

import typer
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from curate import dedup as lib
from curate.cli._common import err, group, json_line, out, workspace
from curate.cli._options import options_from, set_only
from curate.dedup.params import DedupParams

HELP = ("Find exact, near (MinHash) or semantic duplicates and flag them (nothing is deleted); "
        "`curate dedup export DATASET --out FILE.jsonl` writes id, cluster and canonical per example.\n\n"
        "`curate dedup DATASET` is short for `curate dedup run DATASET` (its options: `curate dedup run --help`).")


@options_from(DedupParams, skip=("fields", "chosen"), short={"method": "-m", "threshold": "-t"},
              lead=True)
def run(
    dataset: Optional[str] = typer.Argument(None, help="Dataset to dedup."),
    fields: Optional[str] = typer.Option(None, "--fields", help="Fields compared, e.g. instruction,response "
                                         "(default: text; instruction,input; chat user turns)."),
    engine: str = typer.Option("local", "--engine", help="local | ray (exact and minhash on Ray Data)."),
    address: Optional[str] = typer.Option(None, "--address", help="Ray cluster to join, HOST:PORT from "
                                          "`ray start --head` (default: a local Ray on this machine's cores)."),
    input_: Optional[str] = typer.Option(None, "--input", help="Corpus mode: Parquet files, e.g. 'corpus/*.parquet'; "
                                         "needs --output and --engine ray."),
    output: Optional[Path] = typer.Option(None, "--output", help="Corpus mode: a new folder for data/ and report.json."),
    as_json: bool = typer.Option(False, "--json", help="Print the run and the report as JSON."),
    **given,
) -> None:
    """Find exact, near (MinHash) or semantic duplicates and flag them (nothing is deleted)."""
    settings = set_only(given)
    if input_ is not None or output is not None:
        _dedup_corpus(input_, output, engine, address, fields=fields, **settings)
        return
    if dataset is None:
        raise lib.DedupError("dedup: no dataset given; fix: `curate dedup DATASET`, or --input/--output for a corpus")
    ws = workspace()
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(),
                  console=err, transient=True) as bar:
        job = bar.add_task("dedup", total=None)

        def progress(stage: str, done: int, total: int) -> None:
            bar.update(job, description=f"{dataset}: {stage}", completed=done, total=total or None)

        report = lib.run_dedup(ws, dataset, fields=fields, progress=progress, engine=engine, address=address,
                               **settings)
    if as_json:
        json_line({"run": asdict(report), "report": [r.to_json() for r in lib.report(ws, dataset)]})
        return
    p = report.params
    how = {"exact": "normalised hash", "minhash": f"Jaccard ≥ {p['threshold']}, {p['ngram']}-{p['shingle']} "
           f"shingles, {p['num_perm']} perms", "semantic": f"cosine ≥ {p['threshold']}"}[report.method]
    out.print(f"dedup run {report.run_id} of {dataset} ({report.method}: {how}; fields {','.join(p['fields'])}) "
              f"in {report.seconds:.2f}s: {report.candidates:,} candidate pairs, {report.verified:,} verified")
    if p.get("chosen"):
        out.print(f"shingles: {p['ngram']}-{p['shingle']} n-grams, {p['chosen']} (--shingle word|char to choose)")
    table = Table("method", "run", "rows in", "clusters", "in clusters", "flagged is_dup", "decisions",
                  title=f"dedup report: {dataset} (latest run per method)")
    for r in lib.report(ws, dataset):
        table.add_row(r.method, str(r.run_id), f"{r.rows:,}", f"{r.clusters:,}", f"{r.in_clusters:,}",
                      f"{r.flagged:,}", str(r.decisions_applied))
    out.print(table)
    if report.sizes:
        top = ", ".join(map(str, report.sizes[:10])) + (" …" if len(report.sizes) > 10 else "")
        out.print(f"largest clusters: {top}; review them on the Dedup page (curate ui) or export with "
                  f"`curate dedup export {dataset} --out dups.jsonl`")


def _dedup_corpus(input_: Optional[str], output: Optional[Path], engine: str, address: Optional[str],
                  **options) -> None:
    from curate.engine.corpus_dedup import dedup_corpus

    if not input_ or output is None or engine != "ray":
        raise lib.DedupError("dedup: corpus mode needs --input, --output and --engine ray; fix: e.g. curate dedup "
                             "--input 'corpus/*.parquet' --output deduped/ --engine ray")
    with err.status(f"dedup of {input_} on Ray"):
        rep = dedup_corpus(input_, output, address=address, **options)
    c = rep["counters"]
    out.print(f"wrote {output}/data/*.parquet and {output}/report.json: {c['total']:,} rows, {c['clusters']:,} "
              f"clusters, {c['dropped_is_dup']:,} rows flagged is_dup ({c['candidates']:,} candidate pairs, "
              f"{c['verified']:,} verified)")


def export(dataset: str = typer.Argument(..., help="Dataset whose latest dedup is written."),
           out_file: Optional[Path] = typer.Option(None, "--out", "-o", help="The JSONL file to write.")) -> None:
    """Write id, cluster and canonical per example of the latest dedup of DATASET as JSONL."""
    if out_file is None:
        raise lib.DedupError(f"dedup export {dataset}: no output file; fix: add --out FILE.jsonl")
    n = lib.export(workspace(), dataset, out_file)
    out.print(f"wrote {n:,} lines to {out_file} (id, cluster, canonical) from the latest dedup of {dataset}")


def register(app: typer.Typer) -> None:
    dedup = group(app, "dedup", HELP, default="run")
    dedup.command("run")(run)
    dedup.command("export")(export)
