"""Language identification with confidence (langdetect, seeded so results never change between runs).

Signals: ``lang_conf``, the probability of the most likely language, and ``lang_match``, the
probability that the text is in one of the expected languages (0 for letterless text). langdetect
guesses wildly on a few words ("decent but dull ." → French), so a text with fewer than ``min_words``
words holding a letter gets no signal at all (missing: no evidence, so no filter flags it).
Each distinct text of a batch is detected once.
"""

from __future__ import annotations

import re
from functools import lru_cache

import numpy as np
import pandas as pd
from pydantic import Field, field_validator

from curate.ops.registry import Operator, Params, register
import pyarrow.compute as pc

from curate.ops.text import FieldOrAuto, field_values, per_row_sum, words


@lru_cache(maxsize=1)
def _factory():
    from langdetect import DetectorFactory, detector_factory

    DetectorFactory.seed = 0
    detector_factory.init_factory()
    return detector_factory._factory


@lru_cache(maxsize=1)
def known_languages() -> tuple[str, ...]:
    """Language codes the detector knows (``zh-cn``/``zh-tw`` reported as ``zh``)."""
    return tuple(sorted({_norm(code) for code in _factory().get_lang_list()}))


def _norm(code: str) -> str:
    return code.split("-")[0]


def detect_one(text: str, max_chars: int = 500) -> dict[str, float]:
    """Language probabilities of one text (empty when it has no letters to go on)."""
    from langdetect.lang_detect_exception import LangDetectException

    detector = _factory().create()
    detector.set_max_text_length(max_chars)
    detector.append(text)
    try:
        found = detector.get_probabilities()
    except LangDetectException:
        return {}
    probs: dict[str, float] = {}
    for lang in found:
        probs[_norm(lang.lang)] = probs.get(_norm(lang.lang), 0.0) + lang.prob
    return _script_check(text, probs)


_HANGUL = re.compile(r"[\u1100-\u11ff\u3130-\u318f\uac00-\ud7af]")
_KANA = re.compile(r"[\u3040-\u30ff]")
_HAN = re.compile(r"[\u4e00-\u9fff]")


def _script_check(text: str, probs: dict[str, float]) -> dict[str, float]:
    """Korean needs Hangul and Japanese needs kana: langdetect's n-gram profiles share Han characters
    and call half of Traditional Chinese sentences Korean. Without the script, that mass goes to zh."""
    if not _HAN.search(text):
        return probs
    for lang, script in (("ko", _HANGUL), ("ja", _KANA)):
        if lang in probs and not script.search(text):
            probs["zh"] = probs.get("zh", 0.0) + probs.pop(lang)
    return probs


def detect(texts: list[str], max_chars: int = 500) -> list[dict[str, float]]:
    """Language probabilities per text; identical texts are detected once."""
    cache: dict[str, dict[str, float]] = {}
    out = []
    for text in texts:
        key = (text or "")[:max_chars]
        if key not in cache:
            cache[key] = detect_one(key, max_chars) if key.strip() else {}
        out.append(cache[key])
    return out


def top_language(probs: dict[str, float]) -> tuple[str | None, float]:
    if not probs:
        return None, 0.0
    lang = max(probs, key=probs.get)
    return lang, probs[lang]


class LangParams(Params):
    field: FieldOrAuto = Field("auto", description="Field to identify; auto: text, the sft response, or all chat turns.")
    expected: list[str] = Field(["en"], min_length=1, max_length=60,
                                description="ISO 639-1 codes of the languages the dataset should hold.")
    max_chars: int = Field(500, ge=20, le=100_000, description="Characters of each text the detector reads.")
    min_words: int = Field(5, ge=0, le=100, description="Texts with fewer words holding a letter get no "
                                                        "signal (too little text to tell).")

    @field_validator("expected")
    @classmethod
    def _known(cls, value: list[str]) -> list[str]:
        unknown = [v for v in value if v not in known_languages()]
        if unknown:
            raise ValueError(f"unknown language code {unknown[0]!r} (known: {', '.join(known_languages())})")
        return value


def lang_scores(batch: pd.DataFrame, p: LangParams, ctx: dict | None = None) -> dict[str, np.ndarray]:
    values = field_values(batch, p.field)
    flat, parents, _ = words(values)
    letters = pc.match_substring_regex(flat, r"\pL").to_numpy(zero_copy_only=False).astype(np.float64)
    enough = per_row_sum(parents, letters, len(values)) >= p.min_words
    texts = values.to_pylist()
    probs = detect([t if ok else "" for t, ok in zip(texts, enough)], p.max_chars)
    conf = np.array([top_language(pr)[1] for pr in probs], dtype=np.float64)
    match = np.array([min(1.0, sum(pr.get(code, 0.0) for code in p.expected)) for pr in probs], dtype=np.float64)
    return {"lang_conf": np.where(enough, conf, np.nan), "lang_match": np.where(enough, match, np.nan)}


register(Operator("score.lang", "scorer", LangParams, lang_scores,
                  "Language ID with confidence (langdetect, seeded): lang_conf and lang_match "
                  "(probability of an expected language).", signals=("lang_conf", "lang_match")))
