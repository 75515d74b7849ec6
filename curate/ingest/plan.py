"""What one ingest call will do with each file: its mapping, label names, and whether it replaces an
earlier ingest of the same file (see ``curate.ingest``'s docstring for why replacing keeps ids)."""

from __future__ import annotations

from dataclasses import dataclass

from curate.errors import InputError
from curate.ingest import readers
from curate.ingest.labels import names_for
from curate.ingest.readers import Source, peek
from curate.ingest.tasks import Mapping, columns_of, detect_task, resolve
from curate.store import catalog, examples


@dataclass
class Plan:
    """One file to read: its source, hash, mapping, sampled records, label names and, when it replaces
    an earlier ingest of the same file, that source's row and example ids."""

    source: Source
    sha: str
    mapping: Mapping
    sample: list[dict]
    names: dict[str, str | None]
    previous: dict | None = None
    ids: list[int] | None = None


def plan_file(con, source: Source, existing: dict | None, task: str | None, mapping: dict[str, str] | None,
          labels: dict[str, str], replace: bool) -> Plan:
    records = peek(source, 200)
    if not records:
        raise InputError(source.path, "file is empty (no records)", fix="export the data again")
    columns = columns_of(records)
    detected = task or detect_task(columns, mapping or {})
    if existing and detected and detected != existing["task"] and not replace:
        raise InputError(source.path, f"holds {detected} records but dataset {existing['name']!r} is {existing['task']}",
                         fix="ingest it into another dataset with --dataset NAME, or --replace the dataset's sources")
    resolved = resolve(source.path, columns, task=task or (existing or {}).get("task"), mapping=mapping,
                       records=records)
    plan = Plan(source, readers.sha256(source), resolved, records, names_for(source, resolved.columns.get("label"), labels))
    previous = catalog.find_source(con, existing["id"], plan.sha) if existing else None
    if previous and replace:
        plan.previous, plan.ids = previous, examples.source_ids(con, previous["id"])
    elif previous and existing and (catalog.source_mapping(previous) != resolved.columns or labels or resolved.task != existing["task"]):
        shown = ",".join(f"{k}={v}" for k, v in catalog.source_mapping(previous).items())
        raise InputError(source.path, f"already ingested into {existing['name']} (as {existing['task']}, {shown}); "
                         "nothing added", fix="pass --replace to read it again with the new --map/--task/--labels "
                                              "(labels and edits stay with their records)")
    return plan


def check_tasks(con, plans: list[Plan], existing: dict | None) -> str:
    task_name = plans[0].mapping.task
    if any(p.mapping.task != task_name for p in plans):
        odd = next(p for p in plans if p.mapping.task != task_name)
        raise InputError(odd.source.path, "files hold different tasks", fix="ingest them into separate datasets")
    if existing and task_name != existing["task"]:
        replaced = {p.previous["id"] for p in plans if p.previous}
        if {s["id"] for s in catalog.list_sources(con, existing["id"])} - replaced:
            raise InputError(plans[0].source.path, f"dataset {existing['name']!r} is {existing['task']} and has other "
                             f"sources", fix="replace all of its sources in one call, or ingest into a new --dataset")
        catalog.set_task(con, existing["id"], task_name)
    return task_name
