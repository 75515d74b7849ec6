"""The Streamlit router: sections Data · Curate · Label · Versions · Train, and a workspace sidebar."""

from __future__ import annotations

import functools
import gc
import sys

import streamlit as st

from curate.ui import state
from curate.ui.pages import curate_page, data, label, train, versions
from curate.ui.pages import dedup
from curate.ui.pages import compare


def pages() -> dict[str, list[st.Page]]:
    return {
        "Data": [st.Page(data.render, title="Data", icon=":material/table_view:", url_path="data", default=True)],
        "Curate": [st.Page(curate_page.render, title="Curate", icon=":material/cleaning_services:", url_path="curate"),
                   st.Page(dedup.render, title="Dedup", icon=":material/content_copy:", url_path="dedup")],
        "Label": [st.Page(label.render, title="Label", icon=":material/label:", url_path="label")],
        "Versions": [st.Page(versions.render, title="Versions", icon=":material/history:", url_path="versions")],
        "Train": [st.Page(train.render, title="Train", icon=":material/model_training:", url_path="train"),
                  st.Page(compare.render, title="Compare", icon=":material/leaderboard:", url_path="compare")],
    }


def run() -> None:
    st.set_page_config(page_title="curate", page_icon=_icon(), layout="wide")
    state.workspace_sidebar()
    nav = st.navigation(pages())
    with state.user_errors():
        if state.signed_in(state.workspace()) is None:
            return  # the sign-in form is shown; every page waits for it
    try:
        nav.run()
    finally:
        _freeze_loaded()


_LOADED = [0]  # modules loaded at the last freeze


def _freeze_loaded() -> None:
    """Keep the garbage collection Streamlit runs after every script run cheap.

    That full collection walked every object of the loaded libraries, ~150 ms per rerun here (each key
    press on the Label page waited for it). Objects alive now (modules, functions, classes) are moved
    out of the collector's sight once, and again only after a run imported new modules; whatever they
    stop referencing is still freed by reference counting."""
    if len(sys.modules) != _LOADED[0]:
        gc.collect()
        gc.freeze()
        _LOADED[0] = len(sys.modules)


@functools.cache
def _icon():
    """The page icon, drawn here (a Material or emoji icon would be fetched from an outside host)."""
    from PIL import Image, ImageDraw

    image = Image.new("RGBA", (32, 32), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle((1, 1, 30, 30), radius=7, fill=(255, 75, 75, 255))
    for y in (9, 15, 21):
        draw.rectangle((8, y, 23, y + 2), fill=(255, 255, 255, 255))
    return image
