"""Versions for the demo workspace: sst2-dev pinned whole as an eval set, and two versions of sst2
(v1 as ingested, v2 with the curate and label stages' issues and labels applied) so the Versions
page has a diff to show; a version of the spans and of the preference demo datasets
(``add_shaped_versions``) so their exports can be tried."""

from __future__ import annotations

from curate.store import catalog
from curate.store import versions as store
from curate.store.workspace import Workspace
from curate.versions.core import list_eval_sets, pin_eval_set
from curate.versions.create import create_version


def add_versions_demo(workspace: Workspace) -> bool:
    """Add the versions demo once (returns False when it is there already or sst2 is missing)."""
    with workspace.connect() as con:
        sst2, dev = catalog.find_dataset(con, "sst2"), catalog.find_dataset(con, "sst2-dev")
        if sst2 is None or store.list_versions(con, sst2["id"]):
            return False
    if dev is not None and not any(e.name == "sst2-dev" for e in list_eval_sets(workspace)):
        create_version(workspace, "sst2-dev", "v1", note="the SST-2 dev file, pinned whole as an eval set",
                       label_rule="ingested", exclude=(), split=(0, 0, 1))
        pin_eval_set(workspace, "sst2-dev:v1", "all", "sst2-dev")
    create_version(workspace, "sst2", "v1", note="as ingested: ingest labels (30 % flipped on purpose), nothing excluded",
                   label_rule="ingested", exclude=())
    create_version(workspace, "sst2", "v2", note="curated: majority labels of alice and bob, label suspects and "
                   "every other current issue left out")
    return True


# dataset → (label rule, note) of its demo version v1
SHAPED = {"gsm8k-quantities": ("annotator:bob", "bob's spans (the rule's plus numbers written as words) on the "
                               "items he answered, the rule's pre-annotations elsewhere; not gold"),
          "gsm8k-pairs": ("annotator:alice", "constructed pairs (own solution vs. the next question's), alice's "
                          "scripted picks applied; not human preferences")}


def add_shaped_versions(workspace: Workspace) -> bool:
    """Version v1 of the spans and preference demo datasets, once (False when there already or missing)."""
    with workspace.connect() as con:
        found = [catalog.find_dataset(con, name) for name in SHAPED]
        if any(d is None or store.list_versions(con, d["id"]) for d in found):
            return False
    for name, (rule, note) in SHAPED.items():
        create_version(workspace, name, "v1", note=note, label_rule=rule)
    return True
