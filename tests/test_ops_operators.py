"""Table-driven tests of every operator: inputs, expected values and reasons."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from curate.ops import get, operators
from curate.ops.filters import passes
from curate.ops.pii import iban_ok, luhn_ok, redact
from curate.ops.registry import Operator, Params, UnknownOperator, register


def _map(name: str, texts: list[str], **params) -> list[str]:
    op = get(name)
    return op.fn(pa.array(texts, pa.string()), op.params(**params)).to_pylist()


def _score(name: str, frame: pd.DataFrame, ctx: dict | None = None, **params) -> dict[str, np.ndarray]:
    op = get(name)
    return op.fn(frame, op.params(**params), ctx or {})


@pytest.mark.parametrize("before, after", [
    ("you â€™ll end up moved .", "you ’ll end up moved ."),
    ("clichÃ©s", "clichés"),
    ("hÃ©lÃ¨ne", "hélène"),
    ("plain ascii stays", "plain ascii stays"),
    ("caf\u0065\u0301", "café"),                      # NFC composes
])
def test_clean_unicode(before, after) -> None:
    assert _map("clean.unicode", [before]) == [after]


@pytest.mark.parametrize("before, after", [
    ("<p>a <b>great</b> film</p>", "a great film"),
    ('<div class="review-body">any&nbsp; rock <br/> pile</div>', "any rock\npile"),
    ("the &quot;best&quot; &amp; worst", 'the "best" & worst'),
    ("<script>alert(1)</script>kept", "kept"),
    ("a < b and c > d", "a < b and c > d"),           # not markup: untouched
    ("no markup at all", "no markup at all"),
])
def test_clean_html(before, after) -> None:
    assert _map("clean.html", [before]) == [after]


def test_clean_html_without_line_breaks() -> None:
    assert _map("clean.html", ["<p>one</p><p>two</p>"], keep_line_breaks=False) == ["one two"]


@pytest.mark.parametrize("before, after", [
    ("there \t is \t simply\tnot ", "there is simply not"),
    ("  lead and trail  ", "lead and trail"),
    ("a\r\nb\n\n\n\nc", "a\nb\n\nc"),
    ("def f():\n    return  1", "def f():\n    return 1"),    # indentation kept
    ("wow!!!!!! “hi” ‘x’ …", "wow!!! \"hi\" 'x' ..."),
    ("x\u00a0\u00a0y", "x y"),
])
def test_clean_whitespace(before, after) -> None:
    assert _map("clean.whitespace", [before]) == [after]


def test_clean_whitespace_options() -> None:
    assert _map("clean.whitespace", ["“hi”!!!!"], normalize_punctuation=False) == ["“hi”!!!!"]
    assert _map("clean.whitespace", ["a\n\n\n\nb"], max_blank_lines=0) == ["a\nb"]


@pytest.mark.parametrize("before, after", [
    ("mail jane.doe@example.com now", "mail <EMAIL> now"),
    ("reach me at +1 415-555-0132 today", "reach me at <PHONE> today"),
    ("(212) 555-0187", "<PHONE>"),
    ("+44 20 7946 0958", "<PHONE>"),
    ("from 203.0.113.57.", "from <IP_ADDRESS>."),
    ("v6 2001:db8::8a2e:370:7334 ok", "v6 <IP_ADDRESS> ok"),
    ("card 4111 1111 1111 1111", "card <CREDIT_CARD>"),
    ("card 5555-5555-5555-4444", "card <CREDIT_CARD>"),
    ("card 4111 1111 1111 1112", "card 4111 1111 1111 1112"),          # fails Luhn: kept
    ("GB82WEST12345698765432", "<IBAN>"),
    ("DE89 3704 0044 0532 0130 00", "<IBAN>"),
    ("GB00WEST12345698765432", "GB00WEST12345698765432"),              # fails mod-97: kept
    ("key sk-abcdefghijklmnopqrstuvwx1234", "key <SECRET>"),
    ("AKIAABCDEFGHIJKLMNOP", "<SECRET>"),
    ("in 1990-1995 at 10:30:00, 1,000,000 people, version 2", "in 1990-1995 at 10:30:00, 1,000,000 people, version 2"),
])
def test_clean_pii(before, after) -> None:
    assert _map("clean.pii", [before]) == [after]
    assert redact(before) == after


def test_clean_pii_kinds_and_checksums() -> None:
    assert _map("clean.pii", ["a@b.com 10.0.0.12"], kinds=["email"]) == ["<EMAIL> 10.0.0.12"]
    assert luhn_ok("4242424242424242") and not luhn_ok("4242424242424243")
    assert iban_ok("GB82WEST12345698765432") and not iban_ok("GB83WEST12345698765432")


@pytest.mark.parametrize("text, expected", [
    # length reaches 1 at min_words=5; symbols counts '#' and '...'
    ("the cat sat on the mat with a hat .", {"length": 1.0, "stopwords": 1.0, "terminal_punct": 1.0, "repetition": 1.0}),
    ("ok", {"length": 0.2, "stopwords": 0.0, "terminal_punct": 0.0}),
    ("", {"length": 0.0, "alpha_words": 0.0, "word_length": 0.0}),
    ("# # # # a b c d e f", {"symbols": 0.6, "alpha_words": 0.6}),
    ("spam spam spam spam spam spam spam spam", {"repetition": 1 - 5 / 6}),
    ("line one .\nline one .\nline one .\nline two .", {"repetition": 0.5}),
    ("supercalifragilisticexpialidociousness is", {"word_length": 10 / 20}),
])
def test_score_heuristics(text, expected) -> None:
    out = _score("score.heuristics", pd.DataFrame({"text": [text]}), field="text")
    for name, value in expected.items():
        assert out[name][0] == pytest.approx(value, abs=1e-9), name


@pytest.mark.parametrize("text, expected, match, present", [
    ("this is a plain english sentence about a film", ["en"], 1.0, True),
    ("Der Ford T wurde beim internationalen Wettbewerb zum Auto des Jahrhunderts ernannt.", ["en"], 0.0, True),
    ("Der Ford T wurde beim internationalen Wettbewerb zum Auto des Jahrhunderts ernannt.", ["de", "fr"], 1.0, True),
    ("decent but dull .", ["en"], None, False),      # under min_words: no evidence, no signal
])
def test_score_lang(text, expected, match, present) -> None:
    out = _score("score.lang", pd.DataFrame({"text": [text]}), field="text", expected=expected)
    if present:
        assert out["lang_match"][0] == pytest.approx(match, abs=0.1)   # pairwise: expected vs best other
        assert out["lang_conf"][0] > 0.85
    else:
        assert np.isnan(out["lang_match"][0]) and np.isnan(out["lang_conf"][0])


def test_score_lang_script_check() -> None:
    from curate.ops.lang import top_language, detect_one

    # Traditional Chinese (langdetect called half of such sentences Korean) and Korean.
    assert top_language(detect_one("對於通過社交媒體來跟踪國會山任職變遷的人而言，這次與以往有所不同。"))[0] == "zh"
    assert top_language(detect_one("한국어 문장입니다 정말로 좋은 문장"))[0] == "ko"


def test_score_lang_is_deterministic() -> None:
    frame = pd.DataFrame({"text": ["a film that feels like a sitcom pilot stretched far too long"] * 3})
    runs = [_score("score.lang", frame, field="text")["lang_conf"] for _ in range(2)]
    assert np.array_equal(runs[0], runs[1])


def test_score_lang_rejects_unknown_codes() -> None:
    with pytest.raises(ValueError, match="unknown language code 'xx'"):
        get("score.lang").params(expected=["xx"])


SFT = [
    # instruction, response, expected signals
    ("What is 2 + 3?", "2 + 3 = 5. The answer is 5.", {"response_present": 1, "response_complete": 1, "no_refusal": 1}),
    ("Write a poem.", "   ", {"response_present": 0, "response_complete": 0, "response_novel": 0}),
    ("Explain recursion.", "Recursion is when a function calls", {"response_complete": 1}),
    ("Explain recursion.", "Recursion is when a function calls the", {"response_complete": 0.2}),
    ("Show code.", "```python\nprint(1)\n", {"response_complete": 0}),
    ("Tell me a joke.", "As an AI language model, I cannot tell jokes.", {"no_refusal": 0}),
    ("Tell me a joke.", "I'm sorry, but I can't help with that.", {"no_refusal": 0}),
    ("Repeat after me: the quick brown fox", "the quick brown fox", {"response_novel": 0}),
    ("Name a colour in one word, please, from the rainbow, any of the seven will do.", "Blue",
     {"response_novel": 1, "length_ratio": 1}),
]


@pytest.mark.parametrize("instruction, response, expected", SFT)
def test_score_sft(instruction, response, expected) -> None:
    frame = pd.DataFrame({"instruction": [instruction], "input": [""], "response": [response]})
    out = _score("score.sft", frame)
    for name, value in expected.items():
        assert out[name][0] == pytest.approx(value), name


def test_score_sft_length_ratio_and_roles() -> None:
    frame = pd.DataFrame({"instruction": [" ".join(["word"] * 200)], "input": [""], "response": ["ok"]})
    assert _score("score.sft", frame, min_ratio=0.02)["length_ratio"][0] == pytest.approx((1 / 200) / 0.02)
    good = json.dumps([{"role": "system", "content": "s"}, {"role": "user", "content": "hi there"},
                       {"role": "assistant", "content": "hello, how can I help?"}])
    bad = json.dumps([{"role": "assistant", "content": "x"}, {"role": "user", "content": "y"}])
    out = _score("score.sft", pd.DataFrame({"messages": [good, bad]}))
    assert out["role_order"].tolist() == [1.0, 0.0]


def test_score_outlier_and_quality_model() -> None:
    rng = np.random.default_rng(1)
    centre = rng.normal(size=16)
    emb = centre + 0.1 * rng.normal(size=(40, 16))
    emb[0] = -centre                                   # far from everyone
    emb /= np.linalg.norm(emb, axis=1, keepdims=True)
    frame = pd.DataFrame({"text": ["x"] * 40})
    typ = _score("score.outlier", frame, {"embeddings": emb}, k=5)["typicality"]
    assert typ[0] == 0.0 and np.median(typ) == pytest.approx(1.0, abs=1e-3)
    marks = np.full(40, np.nan)
    marks[[1, 2, 3]] = 1.0
    marks[[0, 4]] = 0.0
    from curate.ops.quality import StepSkipped

    with pytest.raises(StepSkipped, match="has 3 good, 2 bad"):
        _score("score.quality_model", frame, {"embeddings": emb, "marks": marks}, min_marks=3)
    q = _score("score.quality_model", frame, {"embeddings": emb, "marks": marks})["quality_score"]
    assert q.shape == (40,) and q[0] < 0.5 < q[1]


@pytest.mark.parametrize("values, min_score, kept", [
    ([0.1, 0.5, 0.9], 0.5, [False, True, True]),
    ([np.nan, 0.0], 0.5, [True, False]),            # missing signal: never flagged
    ([1.0, 0.99], 1.0, [True, False]),
])
def test_filter_passes(values, min_score, kept) -> None:
    assert passes(np.array(values), min_score).tolist() == kept


def test_registry_rejects_duplicates_and_suggests_names() -> None:
    with pytest.raises(ValueError, match="registered twice"):
        register(Operator("clean.html", "mapper", Params, None, "dup"))
    with pytest.raises(UnknownOperator, match="did you mean clean.html"):
        get("clean.htm")
    kinds = {op.kind for op in operators()}
    assert kinds == {"mapper", "scorer", "filter"}


def test_every_param_is_described_and_scores_stay_in_range() -> None:
    for op in operators():
        for name, spec in op.params.model_fields.items():
            assert spec.description, f"{op.name}.{name} has no description"
    frame = pd.DataFrame({"text": ["Some text here, a fine review of a film.", "", "### ... ###", "ok ok ok ok"],
                          "instruction": ["q"] * 4, "input": [""] * 4, "response": ["a b", "", "c", "d"]})
    for op in operators():
        if op.kind == "scorer" and not op.needs:
            for name, values in op.fn(frame, op.params(), {}).items():
                finite = values[~np.isnan(values)]
                assert ((finite >= 0) & (finite <= 1)).all(), (op.name, name)
