"""Checks for instruction data (sft and chat datasets), as signals in [0, 1] (1 = good).

- ``response_present``: 0 when the response is empty or whitespace.
- ``response_complete``: 0 with an unclosed code fence, 0.2 when the response stops on a comma, colon,
  open bracket or a function word (``the``, ``and``, ...), as truncated generations do; else 1.
- ``response_novel``: ``1 -`` the share of the response's word trigrams (bigrams, words for shorter
  responses) that occur in the prompt; 0 when the response repeats the prompt outright.
- ``no_refusal``: 0 when the response holds refusal or "as an AI" boilerplate.
- ``length_ratio``: 1 while response words / prompt words lies in [min_ratio, max_ratio], else the ratio
  to the bound it missed.
- ``role_order``: chat only; 1 when turns go (system) user, assistant, user, ... and end on assistant.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pyarrow.compute as pc
from pydantic import Field

from curate.ops.base import Operator, Params
from curate.ops.text import contents, field_values, safe_div, words

SIGNALS = ("response_present", "response_complete", "response_novel", "no_refusal", "length_ratio", "role_order")
REFUSAL = (r"(?i)\bas an ai\b|\bas a language model\b|\bas an ai language model\b|"
           r"\bi(?:'m| am) (?:sorry|afraid),? but i (?:can(?:'t|not)|won't|am unable|'m unable)\b|"
           r"\bi (?:cannot|can't|won't|am unable to|'m unable to) (?:help|assist|comply|fulfill|provide|do that)\b|"
           r"\bi(?:'m| am) not able to (?:help|assist|comply|provide)\b|\bmy (?:knowledge cutoff|training data)\b|"
           r"\bi do not have (?:personal|the ability)\b|\bi don't have (?:personal|the ability)\b")
_DANGLING = (r"(?i)(?:[,:(\[{]|\b(?:the|a|an|and|or|but|of|to|in|on|with|for|that|which|is|are|was|"
             r"were|be|as|by|from|at|this|these|because|if|then|so|than|into|my|your|our|their|its))\s*$")


class SftParams(Params):
    min_ratio: float = Field(0.02, ge=0, le=100, description="Smallest good response/prompt word ratio.")
    max_ratio: float = Field(200.0, ge=0.01, le=100_000, description="Largest good response/prompt word ratio.")


def _roles_ok(messages: str | None) -> float:
    roles = [t.get("role") for t in contents(messages)]
    if roles and roles[0] == "system":
        roles = roles[1:]
    if not roles or roles[-1] != "assistant":
        return 0.0
    return float(all(r == ("user" if i % 2 == 0 else "assistant") for i, r in enumerate(roles)))


def sft_scores(batch: pd.DataFrame, p: SftParams, ctx: dict | None = None) -> dict[str, np.ndarray]:
    prompt = field_values(batch, "prompt")
    response = field_values(batch, "response")
    trimmed = pc.utf8_trim_whitespace(response)
    present = pc.greater(pc.utf8_length(trimmed), 0).to_numpy(zero_copy_only=False).astype(np.float64)

    fences = pc.count_substring(response, "```").to_numpy(zero_copy_only=False)
    dangling = pc.match_substring_regex(trimmed, _DANGLING).to_numpy(zero_copy_only=False)
    complete = np.where(fences % 2 == 1, 0.0, np.where(dangling, 0.2, 1.0)) * present

    refusal = pc.match_substring_regex(response, REFUSAL).to_numpy(zero_copy_only=False)
    no_refusal = np.where(refusal, 0.0, 1.0)

    _, _, prompt_words = words(prompt)
    _, _, response_words = words(response)
    ratio = safe_div(response_words.astype(np.float64), prompt_words.astype(np.float64), p.max_ratio)
    length_ratio = np.where(ratio < p.min_ratio, ratio / max(p.min_ratio, 1e-12),
                            np.where(ratio > p.max_ratio, p.max_ratio / np.maximum(ratio, 1e-12), 1.0))

    novel = np.ones(len(batch))
    for i, (pr, re_) in enumerate(zip(pc.utf8_lower(prompt).to_pylist(), pc.utf8_lower(trimmed).to_pylist())):
        resp_words = re.findall(r"\w+", re_ or "")
        if not resp_words:
            novel[i] = 0.0
            continue
        if re_.strip() and re_.strip() in (pr or ""):
            novel[i] = 0.0
            continue
        size = 3 if len(resp_words) >= 3 else len(resp_words)
        prompt_words = re.findall(r"\w+", pr or "")
        prompt_grams = {tuple(prompt_words[j:j + size]) for j in range(len(prompt_words) - size + 1)}
        grams = [tuple(resp_words[j:j + size]) for j in range(len(resp_words) - size + 1)]
        novel[i] = 1.0 - sum(g in prompt_grams for g in grams) / len(grams)

    if "messages" in batch and batch["messages"].notna().any():
        roles = np.array([_roles_ok(m) for m in batch["messages"]], dtype=np.float64)
    else:
        roles = np.ones(len(batch))
    return {"response_present": present, "response_complete": complete, "response_novel": novel,
            "no_refusal": no_refusal, "length_ratio": length_ratio, "role_order": roles}


SFT = Operator("score.sft", "scorer", SftParams, sft_scores,
               "Instruction-data checks: empty or truncated response, response copying the prompt, "
               "refusal boilerplate, response/prompt length ratio, chat role order.",
               signals=SIGNALS, tasks=("sft", "chat"))

OPERATORS = [SFT]
