"""A batch the store refused, turned into one line naming the file, the first bad record and the fix."""

from __future__ import annotations

import pyarrow as pa

from curate.errors import InputError
from curate.ingest.readers import Source
from curate.ingest.tasks import Mapping
from curate.store import examples
from curate.store.workspace import scratch


def _problem_message(problem: str, mapping: Mapping, record: str | None) -> tuple[str, str]:
    if problem == "invalid_json":
        import json
        try:
            json.loads(record or "")
            detail = ""
        except json.JSONDecodeError as exc:
            detail = f" ({exc.msg} at column {exc.colno})"
        if record and "\x00" in record:
            return "malformed JSON with NUL bytes (the file looks UTF-16)", "convert it: iconv -f UTF-16 -t UTF-8"
        return f"malformed JSON{detail}", "fix or remove this line"
    if problem == "not_object":
        return "record is not a JSON object", 'each record must be an object like {"text": ...}'
    cols = ", ".join(f"{k}={v}" for k, v in mapping.columns.items())
    if problem == "missing":
        return f"record has no value for a required field ({cols})", "fill it in, or --map the field to another column"
    return (f"a text field holds a number, boolean, list or object, or a label is not a string or an integer ({cols})",
            'text fields must be JSON strings (quote numbers: "5") and labels strings or integers; '
            "or map the right column with --map")


def explain_batch(source: Source, table: pa.Table, mapping: Mapping, paths: dict[str, str], label_type: str | None,
             cause: Exception) -> InputError:
    """Turn a failed batch into one line naming the first bad record (checked on a scratch connection)."""
    with scratch() as con:
        bad = examples.first_problem(con, table.select(["row_num", "raw"]), mapping.task, paths, label_type)
    if bad is None:
        return InputError(source.path, f"could not ingest: {str(cause).splitlines()[0][:200]}",
                          fix="check the file's format")
    row_num, problem = bad
    if problem == "label_mixed":
        kind = "an integer" if label_type == "str" else "a string"
        return InputError(source.path, f"label is {kind} but earlier labels are "
                          f"{'strings' if label_type == 'str' else 'integers'}", **source.where(row_num),
                          fix="make every label a string, or every label an integer")
    idx = int(table.column("row_num").to_numpy().searchsorted(row_num))
    message, fix = _problem_message(problem, mapping, table.column("raw")[idx].as_py())
    return InputError(source.path, message, **source.where(row_num), fix=fix)
