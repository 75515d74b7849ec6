"""``curate eval`` and ``curate predict``, and how every command prints scores: headline metrics per
eval set, per-class precision/recall/F1 and the confusion matrix, and any eval set refused."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Optional

import typer
from rich.table import Table

from curate import train as training
from curate.cli._common import out, workspace
from curate.train import evaluate


def _fmt(value) -> str:
    return "—" if value is None else f"{value:.4f}" if isinstance(value, float) else str(value)


def run_report(ws, run: training.ModelRun) -> dict[str, Any]:
    """A run's scores, details (confusion, per class) and refused eval sets, as one JSON-ready dict."""
    return {"run": run.id, "kind": run.kind, "ref": run.ref, "status": run.status, "artifact": run.artifact,
            "counters": run.counters.to_json(), "scores": training.scores(ws, run.id),
            "details": training.details(ws, run.id), "refused": run.counters.eval_refused}


def print_detail(name: str, detail: dict[str, Any]) -> None:
    per_class = detail.get("per_class") or {}
    if per_class:
        table = Table("class", "precision", "recall", "f1", "support", title=f"{name}: per class")
        for c, v in per_class.items():
            table.add_row(c, _fmt(v["precision"]), _fmt(v["recall"]), _fmt(v["f1"]), str(v["support"]))
        out.print(table)
    confusion = detail.get("confusion")
    if confusion:
        labels = confusion["labels"]
        table = Table("reference \\ predicted", *labels, title=f"{name}: confusion matrix")
        for label, row in zip(labels, confusion["matrix"]):
            table.add_row(label, *[str(n) for n in row])
        out.print(table)


def print_report(report: dict[str, Any]) -> None:
    scores = report["scores"]
    label = "baseline" if report["kind"] == "baseline" else "fine-tune"
    columns = sorted({m for s in scores.values() for m in s if ":" not in m}, key=lambda m: (m == "n", m))
    table = Table("eval set", *columns, title=f"model run {report['run']} ({label})")
    for name, values in scores.items():
        table.add_row(name, *[_fmt(values.get(c)) for c in columns])
    out.print(table)
    for name, detail in report["details"].items():
        print_detail(name, detail)
    for reason in report["refused"].values():
        out.print(f"refused {reason}")
    if report.get("artifact"):
        out.print(f"model saved in {report['artifact']}")


def eval_(run_id: int = typer.Argument(..., help="A finished classification model run (see `curate runs`)."),
         on: str = typer.Option(..., "--on", help="Pinned eval set to score it on (see `curate version evals`)."),
         as_json: bool = typer.Option(False, "--json", help="Print the scores as JSON.")) -> None:
    """Score a saved model run on a pinned eval set (refused when their labels differ) and store it."""
    result = evaluate.evaluate_run(workspace(), run_id, on)
    if as_json:
        print(json.dumps(result, ensure_ascii=False))
        return
    m = result["metrics"]
    out.print(f"run {run_id} on {on}: accuracy {_fmt(m['accuracy'])} · macro-F1 {_fmt(m['macro_f1'])} · n {m['n']}")
    print_detail(on, result["detail"])


def predict(run_id: int = typer.Argument(..., help="A finished classification model run."),
            file: Path = typer.Argument(..., help="JSONL, JSON, CSV or Parquet file of records to label."),
            field: str = typer.Option("text", "--field", help="Column holding the text."),
            out_path: Optional[Path] = typer.Option(None, "--out", "-o", help="Write JSONL here (default: stdout).")) -> None:
    """Label every record of a file with a saved model run: one JSON line per record (row, prediction, score)."""
    rows = evaluate.predict_file(workspace(), run_id, file, field=field)
    lines = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
    if out_path:
        out_path.write_text(lines, encoding="utf-8")
        out.print(f"{len(rows):,} predictions → {out_path}")
    else:
        print(lines, end="")


def register(app: typer.Typer) -> None:
    app.command("eval")(eval_)
    app.command("predict")(predict)
