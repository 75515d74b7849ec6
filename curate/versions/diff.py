"""The difference between two versions: added, removed and changed rows, each with its reasons.

Reasons come from what each version recorded, not from today's store, so a diff stays true after
later edits:

* removed (in A, not in B): why B left it out — ``issue:<kind>``, ``dup_decision:<action>``,
  ``decontaminated``, ``unlabelled`` — or ``not_in_dataset`` (versions of different datasets);
* added (in B, not in A): ``new_example`` (A never saw it), ``issue_cleared:<kind>``,
  ``dup_decision:<action>`` (a person's decision on its cluster kept it), ``no_longer_contaminated``,
  ``labelled``;
* changed (in both): ``edit:<field>`` (detail: who edited), ``label_change`` (detail: from → to and
  how the label was decided), ``split_change``.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from curate.store.workspace import Workspace
from curate.store import versions as store
from curate.versions.core import read_version
from curate.versions.model import DiffCounts, DiffReason, DiffRow, VersionDiff

EDITABLE = ("text", "instruction", "input", "response", "messages")


def _removed(row: dict[str, Any]) -> list[tuple[str, str]]:
    reason = row["b_dropped"]
    if reason is None:
        return [("not_in_dataset", "the other version's dataset has no such example")]
    return [(reason, row["b_dropped_detail"] or "")]


def _added(row: dict[str, Any]) -> list[tuple[str, str]]:
    before = row["a_dropped"]
    dup = json.loads(row["b_dup"]) if row["b_dup"] else None
    if before is None:
        return [("new_example", "not in the dataset when the older version was made")]
    if (before == "issue:is_dup" or before.startswith("dup_decision:")) and dup and dup.get("decision"):
        return [(f"dup_decision:{dup['decision']}", f"cluster {dup['cluster']}: {dup['role']}")]
    if before.startswith("issue:"):
        return [(f"issue_cleared:{before.split(':', 1)[1]}", row["a_dropped_detail"] or "")]
    if before.startswith("dup_decision:"):
        return [("dup_decision_changed", row["a_dropped_detail"] or "")]
    if before == "decontaminated":
        return [("no_longer_contaminated", row["a_dropped_detail"] or "")]
    if before == "unlabelled":
        return [("labelled", f"label {row['b_label']} ({row['b_label_source']})")]
    return [(before, row["a_dropped_detail"] or "")]


def _changed(row: dict[str, Any]) -> list[tuple[str, str]]:
    out = []
    edits = json.loads(row["b_edits"]) if row["b_edits"] else {}
    for f in EDITABLE:
        if row[f"a_{f}"] != row[f"b_{f}"]:
            who = edits.get(f)
            out.append((f"edit:{f}", f"by {who}" if who else "edit withdrawn: back to the ingested value"))
    if row["a_label"] != row["b_label"]:
        out.append(("label_change", f"{row['a_label']} → {row['b_label']} ({row['b_label_source']})"))
    if row["a_split"] != row["b_split"]:
        out.append(("split_change", f"{row['a_split']} → {row['b_split']}"))
    return out


def diff(workspace: Workspace, a: str, b: str) -> VersionDiff:
    """What changed from version ``a`` to version ``b`` (refs ``DATASET:NAME``): the refs, ``counts``
    (added/removed/changed), ``reasons`` (one per change and reason with its count, most frequent
    first) and ``rows``: per example the change, its first reason, all reasons with details, and the
    compared text or label before and after."""
    with workspace.connect() as con:
        va, vb = read_version(con, a), read_version(con, b)
        rows = store.diff_rows(con, va.id, vb.id)
    out_rows: list[DiffRow] = []
    counts: Counter[str] = Counter()
    reasons: Counter[tuple[str, str]] = Counter()
    for row in rows:
        if row["in_a"] and not row["in_b"]:
            change, found = "removed", _removed(row)
        elif row["in_b"] and not row["in_a"]:
            change, found = "added", _added(row)
        else:
            change, found = "changed", _changed(row)
        counts[change] += 1
        for reason, _ in found:
            reasons[(change, reason)] += 1
        side = "b" if change == "added" else "a"
        before = _show(row, "a") if change != "added" else ""
        after = _show(row, "b") if change != "removed" else ""
        out_rows.append(DiffRow(row["example_id"], change, found[0][0],
                                "; ".join(f"{r}: {d}" if d else r for r, d in found), row[f"{side}_split"],
                                before, after))
    return VersionDiff(va.ref, vb.ref, DiffCounts(counts["added"], counts["removed"], counts["changed"]),
                       [DiffReason(c, r, n) for (c, r), n in sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0]))],
                       out_rows)


def _show(row: dict[str, Any], side: str) -> str:
    """One line for the row-level view: the main text and the label."""
    text = next((row[f"{side}_{f}"] for f in ("text", "instruction", "messages") if row[f"{side}_{f}"]), "") or ""
    if row[f"{side}_input"]:
        text += f"\n{row[f'{side}_input']}"
    if row[f"{side}_response"]:
        text += f"\n→ {row[f'{side}_response']}"
    label = row[f"{side}_label"]
    return f"[{label}] {text}" if label is not None else text
