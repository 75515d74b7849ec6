"""``curate version create|list|show|diff|pin|check`` and ``curate export``: thin shells over curate.versions."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer
from rich.table import Column, Table

from curate import versions
from curate.cli._common import err, group, json_line, listing, out, workspace
from curate.cli._options import build, field_option
from curate.versions.params import DEFAULT_SPLIT, SplitParams


def _counts_line(c: versions.Counters) -> str:
    return (f"{c.kept:,} of {c.total:,} rows: train {c.splits.train:,} · validation "
            f"{c.splits.validation:,} · test {c.splits.test:,}")


def create(
    dataset: str = typer.Argument(..., help="Dataset to snapshot."),
    name: str = typer.Option(..., "--name", "-n", help="Version name, e.g. v3 (refer to it as DATASET:NAME)."),
    note: Optional[str] = typer.Option(None, "--note", help="What changed, in a sentence."),
    split: str = typer.Option(DEFAULT_SPLIT, "--split", help="train,validation,test ratios."),
    seed: Optional[int] = field_option(SplitParams, "seed"),
    exclude: Optional[str] = typer.Option(None, "--exclude", help="Issue kinds that leave a row out, comma-separated "
                                          "(default: every current kind; 'none' for none)."),
    labels: str = typer.Option("majority", "--labels", help="Label rule: majority | adjudicated | ingested | annotator:NAME."),
    group: Optional[str] = typer.Option(None, "--group", help="Raw-record key whose rows stay in one split (e.g. sent_id)."),
    decontaminate: Optional[Path] = typer.Option(None, "--decontaminate", help="Also keep near-duplicates of this "
                                                 "file's items (e.g. a benchmark's test set) out of the version."),
    resplit: bool = typer.Option(False, "--resplit", help="Do not keep the parent version's split of its rows."),
) -> None:
    """Snapshot a dataset as an immutable version with leak-free train/validation/test splits."""
    kinds = None if exclude is None else () if exclude.strip().lower() == "none" else \
        tuple(k.strip() for k in exclude.split(",") if k.strip())
    v = versions.create_version(workspace(), dataset, name, note=note, exclude=kinds, label_rule=labels,
                                split=split, seed=build(SplitParams, {"seed": seed}, command="version create").seed,
                                group_column=group, decontaminate=decontaminate,
                                inherit_splits=not resplit)
    c = v.counters
    out.print(f"created {v.ref}: {_counts_line(c)}")
    for reason, n in sorted(v.dropped_counts.items()):
        out.print(f"  left out {n:,}: {reason}")
    if c.decontaminated:
        out.print(f"  decontaminated {c.decontaminated:,} rows against: "
                  + ", ".join(f"{k} ({n})" for k, n in c.decontaminated_by.items()))
    out.print(f"  near-duplicate pairs across splits: {c.leak_pairs} · groups kept whole: "
              f"{c.rows_in_groups:,} rows · worst label-count deviation: {c.max_deviation}")


def list_(dataset: str = typer.Argument(..., help="Dataset name."),
          as_json: bool = typer.Option(False, "--json", help="Print one JSON object per version.")) -> None:
    """List a dataset's versions."""
    def cells(v: versions.Version) -> list[str]:
        s = v.counters.splits
        return [v.ref, v.parent or "", f"{v.n_rows:,}", f"{s.train}/{s.validation}/{s.test}",
                f"{v.counters.left_out:,}", v.note or ""]
    listing(versions.list_versions(workspace(), dataset),
            [Column("version", no_wrap=True), "parent", "rows", "train/val/test", "left out", "note"], cells,
            empty=f"{dataset} has no versions yet; create one with: curate version create {dataset} --name v1",
            as_json=as_json)


def show(ref: str = typer.Argument(..., help="Version as DATASET:NAME."),
         as_json: bool = typer.Option(False, "--json", help="Print the version as JSON.")) -> None:
    """Show a version: parameters, counts per split and label, rows left out and why, exports."""
    v = versions.get_version(workspace(), ref)
    if as_json:
        json_line(v)
        return
    out.print(f"{v.ref} (parent {v.parent or '—'}, {v.task}, created {str(v.created_at)[:19]})")
    if v.note:
        out.print(f"note: {v.note}")
    out.print(_counts_line(v.counters))
    out.print("params: " + json.dumps({k: v.params[k] for k in ("exclude", "label_rule", "split", "seed",
                                                                 "group_column", "eval_sets")}))
    table = Table("split", "label", "rows")
    for r in v.split_counts:
        table.add_row(r["split"], "" if r["label"] is None else str(r["label"]), f"{r['n']:,}")
    out.print(table)
    for reason, n in sorted(v.dropped_counts.items()):
        out.print(f"left out {n:,}: {reason}")
    for e in v.exports:
        out.print(f"export {e['format']}: {e['path']} ({e['n_rows']:,} rows)")


def diff(a: str = typer.Argument(..., help="Older version, DATASET:NAME."),
         b: str = typer.Argument(..., help="Newer version, DATASET:NAME."),
         rows: int = typer.Option(20, "--rows", "-n", min=0, help="Changed rows to list."),
         as_json: bool = typer.Option(False, "--json", help="Print the whole diff as JSON.")) -> None:
    """Added, removed and changed rows between two versions, with the reason for each."""
    d = versions.diff(workspace(), a, b)
    if as_json:
        json_line(d)
        return
    c = d.counts
    out.print(f"{d.a} → {d.b}: {c.added:,} added · {c.removed:,} removed · {c.changed:,} changed")
    table = Table("change", "reason", "rows")
    for r in d.reasons:
        table.add_row(r.change, r.reason, f"{r.n:,}")
    out.print(table)
    if rows and d.rows:
        detail = Table("example", "change", "reasons", "before", "after")
        for row in d.rows[:rows]:
            detail.add_row(str(row.example_id), row.change, row.reasons, _short(row.before), _short(row.after))
        out.print(detail)


def _short(value: str, width: int = 60) -> str:
    text = (value or "").replace("\n", " ⏎ ")
    return text if len(text) <= width else text[:width - 1] + "…"


def pin(ref: str = typer.Argument(..., help="Version as DATASET:NAME."),
        split: str = typer.Option("test", "--split", help="train | validation | test | all."),
        name: str = typer.Option(..., "--as", help="Eval set name.")) -> None:
    """Pin a split of a version as a named eval set; later versions stay clear of it."""
    e = versions.pin_eval_set(workspace(), ref, split, name)
    out.print(f"pinned {e.ref} {e.split} as eval set {e.name} ({e.n_rows:,} rows, {e.task})")


def evals(dataset: Optional[str] = typer.Argument(None, help="Only this dataset's eval sets."),
          as_json: bool = typer.Option(False, "--json", help="Print one JSON object per eval set.")) -> None:
    """List pinned eval sets."""
    listing(versions.list_eval_sets(workspace(), dataset), ["eval set", "version", "split", "task", "rows"],
            lambda e: [e.name, e.ref, e.split, e.task, f"{e.n_rows:,}"],
            empty="no eval sets yet; pin one with: curate version pin DATASET:NAME --split test --as NAME",
            as_json=as_json)


def check(ref: str = typer.Argument(..., help="Version as DATASET:NAME.")) -> None:
    """Report every near-duplicate pair whose rows sit in different splits (there must be none)."""
    leaks = versions.check_leaks(workspace(), ref)
    if not leaks:
        out.print(f"{ref}: no near-duplicate pair crosses splits")
        return
    for p in leaks:
        err.print(f"{ref}: examples {p.a} ({p.a_split}) and {p.b} ({p.b_split}) are near-duplicates "
                  f"(Jaccard {p.jaccard})")
    raise typer.Exit(1)


def export(ref: str = typer.Argument(..., help="Version as DATASET:NAME."),
           fmt: str = typer.Option(..., "--format", "-f", help=" | ".join(versions.FORMATS)),
           out_path: Optional[Path] = typer.Option(None, "--out", "-o", help="File (jsonl, parquet, csv) or folder "
                                                   "(hf, alpaca, sharegpt); default under artifacts/exports/."),
           overwrite: bool = typer.Option(False, "--overwrite", help="Replace an earlier export at --out (never a "
                                          "folder curate did not write)."),
           spreadsheet_safe: bool = typer.Option(False, "--spreadsheet-safe", help="csv: prefix cells starting with "
                                                 "= + - @ with ' so spreadsheets do not run them (changes the text)."),
           as_json: bool = typer.Option(False, "--json", help="Print the result as JSON.")) -> None:
    """Export a version; the export is recorded with the version it came from."""
    r = versions.export_version(workspace(), ref, fmt, out_path, overwrite=overwrite,
                                spreadsheet_safe=spreadsheet_safe)
    if as_json:
        print(json.dumps(r.to_json(), ensure_ascii=False))
        return
    extra = f" ({r.skipped:,} conversations that are not user/assistant pairs were skipped)" if r.skipped else ""
    out.print(f"exported {r.ref} as {r.format}: {r.n_rows:,} rows → {r.path}{extra}")
    if spreadsheet_safe:
        out.print(f"spreadsheet-safe: {r.cells_changed:,} cells got a leading ' (the file no longer holds the exact text)")


def register(app: typer.Typer) -> None:
    app.command("export")(export)
    version = group(app, "version", "Immutable versions of a dataset: create, list, show, diff, pin eval sets, check.")
    for name, fn in (("create", create), ("list", list_), ("show", show), ("diff", diff), ("pin", pin),
                     ("evals", evals), ("check", check)):
        version.command(name)(fn)
