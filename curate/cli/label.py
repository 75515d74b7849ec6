"""Labelling commands: ``questions``, ``annotators``, ``labels``, ``agreement`` and ``suspects``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer
from rich.table import Table

from curate.cli._common import err, esc, fail, group, listing, out, workspace
from curate.cli._options import build, field_option, options_from
from curate.label import agreement as agreement_lib, annotations, annotators as annotators_lib
from curate.label import prelabel as prelabel_lib, questions as questions_lib, suspects as suspects_lib
from curate.errors import InputError
from curate.label.params import QuestionParams, SuspectParams
from curate.label.questions import KINDS


TOKEN = typer.Option(None, "--token", envvar="CURATE_TOKEN", show_envvar=True,
                     help="The annotator's sign-in token (needed once a workspace has annotators).")
ADMIN = typer.Option(False, "--admin", help="Write on the annotator's behalf without their token; "
                     "recorded as an admin action (origin ...:admin).")


def _may_write_as(ws, accept_above: Optional[float], annotator: Optional[str], token: Optional[str],
                  admin: bool) -> bool:
    """Check --annotator/--token/--admin before any work when --accept-above will write answers."""
    if accept_above is None:
        return False
    if not annotator:
        fail("--accept-above needs --annotator NAME (whose labels they become)")
    return annotators_lib.authorize(ws, annotator, token=token, admin=admin)


def add_question(dataset: str = typer.Argument(..., help="Dataset name."),
        name: str = typer.Argument(..., help="Question name, e.g. sentiment."),
        kind: str = typer.Option("label", "--kind", "-k", help=f"One of: {', '.join(KINDS)}."),
        options: Optional[str] = typer.Option(None, "--options", help="Classes, comma-separated (default: the dataset's label set)."),
        overlap: Optional[int] = field_option(QuestionParams, "overlap")) -> None:
    """Add a question to a dataset."""
    opts = [o for o in options.split(",")] if options else None
    q = questions_lib.add_question(workspace(), dataset, name, kind, options=opts, overlap=overlap)
    extra = f" ({', '.join(q.options)})" if q.options else ""
    out.print(f"{dataset}: question {q.name} ({q.kind}{extra}, overlap {q.overlap})")


def list_questions(dataset: str = typer.Argument(..., help="Dataset name.")) -> None:
    """List a dataset's questions."""
    listing(questions_lib.list_questions(workspace(), dataset), ["question", "kind", "options", "overlap"],
            lambda q: [q.name, q.kind, ", ".join(q.options), str(q.overlap)],
            empty=f"{dataset} has no questions yet; add one with: curate questions add {dataset} NAME --kind label")


def add_annotator(name: str = typer.Argument(..., help="Annotator name.")) -> None:
    """Add an annotator and print their sign-in token (shown once; only its hash is stored)."""
    token = annotators_lib.add_annotator(workspace(), name)
    out.print(f"annotator {name} added; sign-in token (shown once):")
    print(token)


def token(name: str = typer.Argument(..., help="Annotator name.")) -> None:
    """Issue a new sign-in token for an annotator (the old one stops working)."""
    print(annotators_lib.new_token(workspace(), name))


def list_annotators() -> None:
    """List annotators and how many answers each gave."""
    listing(annotators_lib.list_annotators(workspace()), ["annotator", "answers", "since"],
            lambda r: [r["name"], f"{r['annotations']:,}", str(r["created_at"])[:19]],
            empty="no annotators yet; add one with: curate annotators add NAME")


def import_(file: Path = typer.Argument(..., help="JSONL of {\"id\": record id or row number, \"value\": answer}, "
                                         "or a Label Studio / Argilla JSON export."),
            dataset: str = typer.Option(..., "--dataset", "-d", help="Dataset name."),
            annotator: str = typer.Option(..., "--annotator", "-a", help="Whose answers these are."),
            question: Optional[str] = typer.Option(None, "--question", "-q", help="Question (default: the first)."),
            token: Optional[str] = TOKEN, admin: bool = ADMIN) -> None:
    """Import labels from another tool as one annotator's answers (all lines or none)."""
    ws = workspace()
    as_admin = annotators_lib.authorize(ws, annotator, token=token, admin=admin)
    report = annotations.import_labels(ws, file, dataset, annotator, question=question, admin=as_admin)
    out.print(f"imported {report.recorded:,} answers to {dataset}/{report.question} as {report.annotator}")


def export(dataset: str = typer.Option(..., "--dataset", "-d", help="Dataset name."),
           question: Optional[str] = typer.Option(None, "--question", "-q", help="Question (default: the first)."),
           out_file: Optional[Path] = typer.Option(None, "--out", "-o", help="Write JSONL here instead of stdout.")) -> None:
    """Export every current answer as JSONL (id, annotator, value, ...), importable again."""
    rows = annotations.export_labels(workspace(), dataset, question=question)
    _write_jsonl(rows, out_file)
    if out_file:
        out.print(f"wrote {len(rows):,} answers to {out_file}")


def prelabel(dataset: str = typer.Argument(..., help="Dataset name."),
             question: Optional[str] = typer.Option(None, "--question", "-q", help="Question (default: the first)."),
             accept_above: Optional[float] = typer.Option(None, "--accept-above", help="Also accept suggestions with confidence ≥ this."),
             annotator: Optional[str] = typer.Option(None, "--annotator", "-a", help="Who accepts (with --accept-above)."),
             token: Optional[str] = TOKEN, admin: bool = ADMIN) -> None:
    """Train the pre-label model on the current labels and store suggestions for every example."""
    ws = workspace()
    q = questions_lib.get_question(ws, dataset, question)
    as_admin = _may_write_as(ws, accept_above, annotator, token, admin)
    report = prelabel_lib.train(ws, q)
    out.print(f"{dataset}/{q.name}: trained on {report.trained_on:,} labels, suggested {report.predicted:,} "
              f"({report.seconds:.1f}s, run {report.run_id})")
    if accept_above is not None:
        n = prelabel_lib.accept_above(ws, q, accept_above, annotator or "", admin=as_admin)  # checked above
        out.print(f"accepted {n:,} suggestions with confidence ≥ {accept_above} as {annotator}")


def _write_jsonl(rows: list[dict], path: Optional[Path]) -> None:
    if path and not path.parent.is_dir():
        raise InputError(path, f"folder {path.parent} does not exist", fix="create it first, or choose another --out")
    lines = [json.dumps(r, ensure_ascii=False, default=str) for r in rows]
    if path:
        path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    else:
        for line in lines:
            print(line)


def _fmt(x: Optional[float]) -> str:
    return "—" if x is None else f"{x:.3f}"


def agreement(dataset: str = typer.Argument(..., help="Dataset name."),
              question: Optional[str] = typer.Option(None, "--question", "-q", help="Only this question."),
              as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Inter-annotator agreement: Cohen's κ per pair, Fleiss' κ and Krippendorff's α per question; span F1."""
    results = agreement_lib.agreement(workspace(), dataset, question)
    if as_json:
        print(json.dumps(results, indent=2))
        return
    if not results:
        out.print(f"{dataset} has no questions yet")
    for r in results:
        out.print(f"[bold]{esc(dataset)}/{esc(r['question'])}[/] ({r['kind']}): {r['answers']:,} answers on {r['examples']:,} "
                  f"examples by {len(r['annotators'])} annotators; {r['overlapping']:,} with ≥ 2 answers, "
                  f"{r['disagreements']:,} disagreements", markup=True)
        out.print(f"  Fleiss' κ {_fmt(r['fleiss'])} ({r['fleiss_examples']:,} examples × {r['fleiss_raters']} raters)"
                  f"   Krippendorff's α {_fmt(r['alpha'])}")
        if r["cohen"]:
            table = Table("annotator A", "annotator B", "shared", "observed", "Cohen's κ")
            for p in r["cohen"]:
                table.add_row(p["a"], p["b"], f"{p['n']:,}", _fmt(p["observed"]), _fmt(p["kappa"]))
            out.print(table)
        if r["span_f1"]:
            table = Table("annotator A", "annotator B", "shared", "spans", "exact F1", "overlap F1")
            for p in r["span_f1"]:
                table.add_row(p["a"], p["b"], f"{p['n']:,}", f"{p['spans']:,}", _fmt(p["exact_f1"]), _fmt(p["overlap_f1"]))
            out.print(table)


@options_from(SuspectParams, skip=("accept_above",), short={"method": "-m"})
def suspects(dataset: str = typer.Argument(..., help="Dataset name."),
             question: Optional[str] = typer.Option(None, "--question", "-q", help="Question (default: the first)."),
             out_file: Optional[Path] = typer.Option(None, "--out", "-o", help="Write the ranked suspects as JSONL."),
             accept_above: Optional[float] = typer.Option(None, "--accept-above", help="Take the suggested label of suspects scoring ≥ this."),
             annotator: Optional[str] = typer.Option(None, "--annotator", "-a", help="Who takes them (with --accept-above)."),
             limit: int = typer.Option(20, "--limit", "-n", min=0, help="Rows to print."),
             as_json: bool = typer.Option(False, "--json", help="Print the report and the ranked suspects as JSON."),
             token: Optional[str] = TOKEN, admin: bool = ADMIN, **given) -> None:
    """Find likely label errors (cleanlab over cross-validated probabilities), ranked; score 1 = surely wrong.

    With --accept-above, the latest stored suspects (found now if there are none) are taken as that
    annotator's answers."""
    options = build(SuspectParams, given, command="suspects").model_dump(exclude={"accept_above"})
    method = options["method"]
    ws = workspace()
    q = questions_lib.get_question(ws, dataset, question)
    if accept_above is not None:
        as_admin = _may_write_as(ws, accept_above, annotator, token, admin)
        n, _ = suspects_lib.accept_suspects(ws, q, accept_above, annotator or "", admin=as_admin,  # checked above
                                            **options)
        out.print(f"{dataset}/{q.name}: took the suggested label of {n:,} suspects scoring ≥ {accept_above} as {annotator}")
        return
    with err.status("fine-tuning per fold" if method == "finetune" else "embedding and cross-validating"):
        report = suspects_lib.find_suspects(ws, q, **options)
    rows = [{k: r[k] for k in ("id", "example_id", "score", "given", "suggested")}
            for r in suspects_lib.list_suspects(ws, q)]
    err.print(f"{dataset}/{q.name}: {report.flagged:,} suspects among {report.checked:,} labels "
              f"({report.seconds:.1f}s, run {report.run_id})")
    if as_json:
        print(json.dumps({"flagged": report.flagged, "checked": report.checked, "run": report.run_id,
                          "seconds": report.seconds, "suspects": rows}, ensure_ascii=False, default=str))
        return
    if out_file:
        _write_jsonl(rows, out_file)
        out.print(f"wrote {len(rows):,} suspects to {out_file}")
        return
    table = Table("id", "score", "given", "suggested")
    for r in rows[:limit]:
        table.add_row(str(r["id"]), f"{r['score']:.3f}", str(r["given"]), str(r["suggested"]))
    out.print(table)


def register(app: typer.Typer) -> None:
    app.command("agreement")(agreement)
    app.command("suspects")(suspects)
    questions = group(app, "questions", "Questions annotators answer about a dataset's examples.")
    questions.command("add")(add_question)
    questions.command("list")(list_questions)
    annotators = group(app, "annotators", "People who label, each with a sign-in token.")
    annotators.command("add")(add_annotator)
    annotators.command("token")(token)
    annotators.command("list")(list_annotators)
    labels = group(app, "labels", "Import, export and pre-label answers.")
    labels.command("import")(import_)
    labels.command("export")(export)
    labels.command("prelabel")(prelabel)
