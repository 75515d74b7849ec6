"""Language identification with confidence (lingua, offline n-gram models, deterministic).

Signals: ``lang_conf``, how sure the detector is of its top language against the runner-up
(``top / (top + second)`` of lingua's confidences), and ``lang_match``, the same for the expected
languages against the strongest other one (``expected / (expected + best other)``; 0 for letterless
text). lingua spreads its confidence over every similar candidate (English 0.6, Dutch 0.1, ...), so
the raw top value is under 0.8 for 14 % of correct English PUD sentences; the pairwise ratio is under
0.8 for 2 %, and 0.5 means "as likely as the best alternative". A text with
fewer than ``min_words`` units holding a letter gets no signal at all (missing: no evidence, so no
filter flags it); units follow the script (``curate.scripts``: jieba words for Chinese, characters for
Japanese and Thai, whitespace words elsewhere).

lingua compares a text with the languages it is asked to choose among (``candidates``). The default
set is the 38 languages below: on the PUD sentences of 20 of them it is 99.7 % right at ~1,400
rows/s on 2 cores. Malay and Marathi are left out on purpose: with them, lingua calls 17 % of the
Indonesian and 4 % of the Hindi sentences Malay and Marathi; add them to ``candidates`` when a dataset
holds them. Chinese is one ``zh`` (Simplified and Traditional alike); ``chinese_variants: true``
reports ``zh-hans`` or ``zh-hant`` instead (OpenCC: a text that ``t2s`` changes holds Traditional forms).
A row mostly written in a spaceless script (``curate.scripts``: at least 30 % of its letters Han, kana,
Thai, ...) is detected without its Latin words, so a Chinese sentence naming "Barack Obama" and the
"White House" is still ``zh``. Each distinct text of a batch is detected once.
"""

from __future__ import annotations

import re
from functools import lru_cache

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from pydantic import Field, field_validator

from curate.ops.base import Operator, Params
from curate.ops.text import FieldOrAuto, field_values, per_row_sum
from curate.scripts import opencc_converter, unit_kinds, units

DEFAULT_CANDIDATES = ("ar", "bg", "bn", "ca", "cs", "da", "de", "el", "en", "es", "et", "fa", "fi", "fr", "he",
                      "hi", "hr", "hu", "id", "is", "it", "ja", "ko", "lt", "lv", "nb", "nl", "pl", "pt", "ro",
                      "ru", "sk", "sl", "sv", "ta", "th", "tr", "uk", "ur", "vi", "zh")
VARIANTS = ("zh-hans", "zh-hant")


@lru_cache(maxsize=1)
def known_languages() -> tuple[str, ...]:
    """ISO 639-1 codes lingua has models for, plus the Chinese variants ``zh-hans``/``zh-hant``."""
    from lingua import Language

    return tuple(sorted({lang.iso_code_639_1.name.lower() for lang in Language.all()} | set(VARIANTS)))


def _base(code: str) -> str:
    return "zh" if code in VARIANTS else code


@lru_cache(maxsize=8)
def _detector(candidates: tuple[str, ...]):
    from lingua import IsoCode639_1, Language, LanguageDetectorBuilder

    langs = [Language.from_iso_code_639_1(getattr(IsoCode639_1, c.upper())) for c in candidates]
    return LanguageDetectorBuilder.from_languages(*langs).build()


_LATIN = re.compile(r"[A-Za-z\u00c0-\u024f]+")


def _variant(text: str) -> str:
    return "zh-hant" if opencc_converter("t2s").convert(text) != text else "zh-hans"


def detect(texts: list[str], max_chars: int = 500, *, candidates: tuple[str, ...] | list[str] = DEFAULT_CANDIDATES,
           chinese_variants: bool = False) -> list[dict[str, float]]:
    """Language confidences per text (summing to 1; empty for a text without letters); identical texts
    are detected once, all of them in one parallel lingua call."""
    langs = tuple(sorted({_base(c) for c in candidates}))
    keys = [(t or "")[:max_chars] for t in texts]
    spaceless = unit_kinds(pa.array(keys, pa.string())) != "words"
    keys = [_LATIN.sub(" ", k) if mixed else k for k, mixed in zip(keys, spaceless)]
    distinct = sorted({k for k in keys if any(ch.isalpha() for ch in k)})
    found = _detector(langs).compute_language_confidence_values_in_parallel(distinct) if distinct else []
    cache: dict[str, dict[str, float]] = {}
    for text, values in zip(distinct, found):
        # rounded: lingua's sums differ in the last bits from call to call; signals must not
        probs = {v.language.iso_code_639_1.name.lower(): round(v.value, 9) for v in values if v.value >= 1e-9}
        if chinese_variants and "zh" in probs:
            probs[_variant(text)] = probs.pop("zh")
        cache[text] = probs
    return [cache.get(k, {}) for k in keys]


def detect_one(text: str, max_chars: int = 500, **options) -> dict[str, float]:
    """Language confidences of one text (empty when it has no letters to go on)."""
    return detect([text], max_chars, **options)[0]


def top_language(probs: dict[str, float]) -> tuple[str | None, float]:
    if not probs:
        return None, 0.0
    lang = max(probs, key=probs.get)
    return lang, probs[lang]


class LangParams(Params):
    field: FieldOrAuto = Field("auto", description="Field to identify; auto: text, the sft response, or all chat turns.")
    expected: list[str] = Field(["en"], min_length=1, max_length=60,
                                description="ISO 639-1 codes of the languages the dataset should hold "
                                            "(zh-hans/zh-hant with chinese_variants).")
    candidates: list[str] = Field(list(DEFAULT_CANDIDATES), min_length=1, max_length=80,
                                  description="Languages the detector chooses among (the expected ones are "
                                              "always added); fewer is faster and confuses less.")
    chinese_variants: bool = Field(False, description="Report zh-hans / zh-hant instead of one zh.")
    max_chars: int = Field(500, ge=20, le=100_000, description="Characters of each text the detector reads.")
    min_words: int = Field(5, ge=0, le=100, description="Texts with fewer units holding a letter get no signal "
                                                        "(too little text to tell); units as the script counts them.")

    @field_validator("expected", "candidates")
    @classmethod
    def _known(cls, value: list[str]) -> list[str]:
        unknown = [v for v in value if v not in known_languages()]
        if unknown:
            raise ValueError(f"unknown language code {unknown[0]!r} (known: {', '.join(known_languages())})")
        return value


def lang_scores(batch: pd.DataFrame, p: LangParams, ctx: dict | None = None) -> dict[str, np.ndarray]:
    values = field_values(batch, p.field)
    flat, parents, _, _ = units(values)
    letters = pc.match_substring_regex(flat, r"\pL").to_numpy(zero_copy_only=False).astype(np.float64)
    enough = per_row_sum(parents, letters, len(values)) >= p.min_words
    texts = values.to_pylist()
    probs = detect([t if ok else "" for t, ok in zip(texts, enough)], p.max_chars,
                   candidates=tuple(p.candidates) + tuple(p.expected), chinese_variants=p.chinese_variants)
    wanted = set(p.expected)
    conf, match = np.zeros(len(probs)), np.zeros(len(probs))
    for i, pr in enumerate(probs):
        ranked = sorted(pr.values(), reverse=True) + [0.0, 0.0]
        conf[i] = ranked[0] / (ranked[0] + ranked[1]) if ranked[0] > 0 else 0.0
        hit = sum(v for code, v in pr.items() if code in wanted or _base(code) in wanted)
        rival = max([v for code, v in pr.items() if code not in wanted and _base(code) not in wanted], default=0.0)
        match[i] = hit / (hit + rival) if hit > 0 else 0.0
    return {"lang_conf": np.where(enough, conf, np.nan), "lang_match": np.where(enough, match, np.nan)}


LANG = Operator("score.lang", "scorer", LangParams, lang_scores,
                "Language ID with confidence (lingua, 38 languages by default): lang_conf and lang_match "
                "(confidence of an expected language).", signals=("lang_conf", "lang_match"))

OPERATORS = [LANG]
