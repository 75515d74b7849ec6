"""Mappers: a cleaned copy of a text column. The runner stores changed values as edits.

Each function takes a ``pa.StringArray`` and returns one of the same length. Rows that cannot
need the fix are found with one vectorised pyarrow test and passed through untouched; only the rest
go through the (per-string) library call.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Callable, Literal

import ftfy
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pydantic import Field

from curate.ops.base import Operator, Params
from curate.ops.text import EditableField


class MapperParams(Params):
    fields: list[EditableField] | None = Field(
        None, min_length=1, max_length=5,
        description="Fields to clean; default: the task's text fields (text; instruction, input, "
                    "response; or every chat turn's content).")
    roles: list[Literal["system", "user", "assistant"]] | None = Field(
        None, min_length=1, max_length=3,
        description="Chat data: the roles whose turns are cleaned (default: every turn).")


def only_where(values: pa.Array, mask: pa.Array | np.ndarray, fn: Callable[[str], str]) -> pa.Array:
    """Apply ``fn`` to the rows where ``mask`` is true; the other rows pass through as they are."""
    mask = np.asarray(pc.fill_null(mask, False) if isinstance(mask, (pa.Array, pa.ChunkedArray)) else mask,
                      dtype=bool)
    if not mask.any():
        return values
    out = values.to_pylist()
    for i in np.flatnonzero(mask):
        if out[i] is not None:
            out[i] = fn(out[i])
    return pa.array(out, pa.string())


# --- unicode repair ---------------------------------------------------------------------------

class UnicodeParams(MapperParams):
    normalization: Literal["NFC", "NFKC", "none"] = Field(
        "NFC", description="Unicode normal form applied after repair (NFKC also folds width and ligatures).")
    uncurl_quotes: bool = Field(False, description="Turn curly quotes into straight ones.")
    fix_width: bool = Field(False, description="Fold full-width and half-width forms (CJK punctuation '，' "
                                               "to ',', half-width katakana to full-width): off, because "
                                               "full-width punctuation is correct CJK text.")


_CONTROL = r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]"


def fix_unicode(values: pa.Array, p: UnicodeParams) -> pa.Array:
    """Repair mojibake (``nâ€™t`` → ``n’t``) and other unicode damage with ftfy. Correct text passes
    unchanged: ftfy's width fix (which turns CJK '，' into ',') runs only with ``fix_width``."""
    config = ftfy.TextFixerConfig(unescape_html=False, uncurl_quotes=p.uncurl_quotes, fix_character_width=p.fix_width,
                                  normalization=None if p.normalization == "none" else p.normalization)
    suspect = pc.or_(pc.invert(pc.string_is_ascii(values)), pc.match_substring_regex(values, _CONTROL))
    return only_where(values, suspect, lambda s: ftfy.fix_text(s, config=config))


UNICODE = Operator("clean.unicode", "mapper", UnicodeParams, fix_unicode,
                   "Repair mojibake and broken unicode (ftfy), then normalise to NFC.")


# --- HTML to text -----------------------------------------------------------------------------

class HtmlParams(MapperParams):
    keep_line_breaks: bool = Field(True, description="Turn block elements and <br> into line breaks "
                                                     "(else into spaces).")
    only_prose_markup: bool = Field(
        False, description="Strip only page residue: rows whose every tag is prose formatting (p, b, i, em, "
                           "strong, br, span, div, a, lists, headings, ...), with no code (``` or `…` spans) "
                           "and no talk of HTML, XML, markup or tags; any other row stays byte for byte.")


_BLOCK = {"p", "div", "br", "li", "ul", "ol", "tr", "table", "h1", "h2", "h3", "h4", "h5", "h6",
          "blockquote", "pre", "section", "article", "header", "footer", "hr", "dd", "dt"}
_SKIP = {"script", "style", "head", "title", "noscript", "template"}
_HTML_HINT = r"<[A-Za-z/!?]|&(?:#[0-9]+|#[xX][0-9A-Fa-f]+|[A-Za-z][A-Za-z0-9]*);"


class _TextOf(HTMLParser):
    """Text content of an HTML fragment: entities decoded, scripts and styles dropped."""

    def __init__(self, newline: str) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.newline = newline
        self.skipping = 0

    def handle_starttag(self, tag, attrs):
        if tag in _SKIP:
            self.skipping += 1
        elif tag in _BLOCK:
            self.parts.append(self.newline)

    def handle_startendtag(self, tag, attrs):
        if tag in _BLOCK:
            self.parts.append(self.newline)

    def handle_endtag(self, tag):
        if tag in _SKIP:
            self.skipping = max(0, self.skipping - 1)
        elif tag in _BLOCK:
            self.parts.append(self.newline)

    def handle_data(self, data):
        if not self.skipping:
            self.parts.append(data)


def html_to_text(text: str, *, keep_line_breaks: bool = True) -> str:
    """The visible text of an HTML fragment (parsed with the standard library's HTML parser)."""
    parser = _TextOf("\n" if keep_line_breaks else " ")
    parser.feed(text)
    parser.close()
    out = "".join(parser.parts).replace("\xa0", " ")
    lines = [" ".join(line.split()) for line in out.split("\n")]
    return "\n".join(line for line in lines if line) if keep_line_breaks else " ".join(out.split())


_PROSE_TAGS = {"p", "br", "b", "i", "u", "em", "strong", "span", "div", "a", "ul", "ol", "li", "h1", "h2", "h3",
               "h4", "h5", "h6", "blockquote", "font", "small", "sup", "sub", "hr", "center", "s", "strike"}
_TAG = re.compile(r"</?([A-Za-z][A-Za-z0-9]*)\b[^<>]*?/?>")
_ABOUT_MARKUP = re.compile(r"```|`[^`\n]+`|\b(?:html|xhtml|xml|markup|tags?|dom|css|jsx|svg)\b", re.IGNORECASE)


def about_markup(text: str) -> bool:
    """True when markup is ``text``'s subject: a tag other than prose formatting (``<button>``,
    ``<html>``, ``vector<int>``), a code span, or words about HTML, XML, markup or tags."""
    tags = {t.lower() for t in _TAG.findall(text)}
    return not tags <= _PROSE_TAGS or _ABOUT_MARKUP.search(_TAG.sub(" ", text)) is not None


def is_page_residue(text: str) -> bool:
    """True when ``text`` holds markup (a tag or an entity) that is scraped page residue, not its subject."""
    return re.search(_HTML_HINT, text) is not None and not about_markup(text)


def markup_subject_rows(frame, p: HtmlParams) -> np.ndarray:
    """With ``only_prose_markup``: the rows whose cleaned fields, read together, are about markup (the
    instruction "Explain the HTML below." makes the input "<p>Hello</p>" its subject); they stay as
    they are in every field. Chat rows read the turns of ``roles``."""
    from curate.ops.text import contents

    keep = np.zeros(len(frame), dtype=bool)
    if not p.only_prose_markup:
        return keep
    for i, row in enumerate(frame.itertuples(index=False)):
        parts = []
        for name in p.fields or []:
            value = getattr(row, name, None)
            if name == "messages":
                parts += [str(t.get("content") or "") for t in contents(value)
                          if not p.roles or t.get("role") in p.roles]
            elif isinstance(value, str):
                parts.append(value)
        keep[i] = about_markup("\n".join(parts))
    return keep


def strip_html(values: pa.Array, p: HtmlParams) -> pa.Array:
    """HTML markup to plain text, only in rows that hold a tag or an entity (with ``only_prose_markup``,
    only in rows ``is_page_residue`` accepts)."""
    def clean(text: str) -> str:
        if p.only_prose_markup and not is_page_residue(text):
            return text
        return html_to_text(text, keep_line_breaks=p.keep_line_breaks)

    return only_where(values, pc.match_substring_regex(values, _HTML_HINT), clean)


HTML = Operator("clean.html", "mapper", HtmlParams, strip_html,
                "HTML to text with a real HTML parser: tags removed, entities decoded, scripts dropped.",
                guard=markup_subject_rows)


# --- whitespace and punctuation ---------------------------------------------------------------

class WhitespaceParams(MapperParams):
    max_blank_lines: int = Field(1, ge=0, le=10, description="Longest run of blank lines kept.")
    keep_indentation: bool = Field(True, description="Keep the spaces and tabs that start a line (code), "
                                                     "collapsing only runs after a visible character.")
    normalize_punctuation: bool = Field(
        True, description="Curly quotes to straight, '…' to '...', and runs of !, ? or . capped.")
    max_repeat_punct: int = Field(3, ge=1, le=20, description="Longest run of one of ! ? . kept.")


_SPACES = "[\\t\\f\\v \\x{00A0}\\x{1680}\\x{2000}-\\x{200A}\\x{202F}\\x{205F}\\x{3000}]+"


def normalize_whitespace(values: pa.Array, p: WhitespaceParams) -> pa.Array:
    """Collapse runs of spaces and tabs, trim lines and ends, cap blank lines; optionally tidy punctuation."""
    out = pc.replace_substring_regex(values, "\\r\\n?", "\n")
    if p.keep_indentation:
        # Only runs after a visible character: the spaces that indent a line (code) stay.
        out = pc.replace_substring_regex(out, "([^\\s\\x{00A0}])" + _SPACES, "\\1 ")
    else:
        out = pc.replace_substring_regex(out, _SPACES, " ")
    out = pc.replace_substring_regex(out, _SPACES + "\\n", "\n")
    out = pc.replace_substring_regex(out, "\\n{%d,}" % (p.max_blank_lines + 2), "\n" * (p.max_blank_lines + 1))
    out = pc.utf8_trim(out, " \t\n\u00a0")
    if p.normalize_punctuation:
        out = pc.replace_substring_regex(out, "[\\x{2018}\\x{2019}\\x{201B}\\x{2032}]", "'")
        out = pc.replace_substring_regex(out, "[\\x{201C}\\x{201D}\\x{201F}\\x{2033}]", '"')
        out = pc.replace_substring(out, "\u2026", "...")
        for mark in ("!", "\\?", "\\."):
            plain = mark.lstrip("\\")
            out = pc.replace_substring_regex(out, f"{mark}{{{p.max_repeat_punct + 1},}}", plain * p.max_repeat_punct)
    return out


WHITESPACE = Operator("clean.whitespace", "mapper", WhitespaceParams, normalize_whitespace,
                      "Whitespace and punctuation normalisation: spaces/tabs collapsed, ends trimmed, "
                      "quotes straightened, punctuation runs capped.")


# --- Traditional / Simplified Chinese ---------------------------------------------------------

class ChineseScriptParams(MapperParams):
    to: Literal["simplified", "traditional", "taiwan", "hongkong"] = Field(
        ..., description="Target script: simplified (OpenCC t2s), traditional (s2t), taiwan (s2twp: Taiwan "
                         "forms and phrases, 软件 → 軟體), hongkong (s2hk).")


OPENCC_CONFIG = {"simplified": "t2s", "traditional": "s2t", "taiwan": "s2twp", "hongkong": "s2hk"}


def convert_chinese(values: pa.Array, p: ChineseScriptParams) -> pa.Array:
    """Traditional ⇄ Simplified Chinese with OpenCC, only in rows holding a Han character. Never part
    of a default: a dataset's script is the user's choice, so this runs only when a recipe asks."""
    from curate.scripts import HAN, opencc_converter

    converter = opencc_converter(OPENCC_CONFIG[p.to])
    return only_where(values, pc.match_substring_regex(values, f"[{HAN}]"), converter.convert)


CHINESE_SCRIPT = Operator("clean.chinese_script", "mapper", ChineseScriptParams, convert_chinese,
                          "Convert Chinese between Traditional and Simplified (OpenCC; to: simplified, traditional, "
                          "taiwan, hongkong).")

OPERATORS = [UNICODE, HTML, WHITESPACE, CHINESE_SCRIPT]
