"""Chinese, Japanese, Korean and Thai text, correct by default: mappers leave correct text alone on
every PUD sentence of 20 languages, word units follow the script, language ID handles mixed text,
Chinese PII, the shipped recipes keep clean Chinese rows, and sft prompts lose page markup only."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from curate.ops import get
from curate.ops import recipe as recipes
from curate.ops.lang import detect_one, top_language
from curate.ops.pii import cn_id_ok, redact
from curate.ops.runner import execute
from curate.scripts import units

ROOT = Path(__file__).resolve().parent.parent
PUD = ROOT / "sample_data" / "pud_sentences.jsonl.gz"  # 20 languages x 1,000 (PROVENANCE.md)


@pytest.fixture(scope="module")
def pud() -> pd.DataFrame:
    return pd.read_json(PUD, lines=True)


def _map(name: str, texts: list[str], **params) -> list[str]:
    op = get(name)
    return op.fn(pa.array(texts, pa.string()), op.params(**params)).to_pylist()


def test_shipped_mappers_leave_every_pud_sentence_alone(pud) -> None:
    """20,000 correct sentences in 20 languages through every mapper of every shipped recipe: the only
    change is collapsing the double spaces that 7 treebank sentences carry (a real defect)."""
    texts = pa.array(pud["text"].tolist(), pa.string())
    before = texts.to_pylist()
    double_space = {i for i, t in enumerate(before) if "  " in t}
    assert len(double_space) == 7
    steps = 0
    for path in sorted(recipes.RECIPES_DIR.glob("*.yaml")):
        for step in recipes.load(path).steps:
            if step.op.kind != "mapper":
                continue
            steps += 1
            after = step.op.fn(texts, step.params).to_pylist()
            changed = {i for i, (a, b) in enumerate(zip(before, after)) if a != b}
            allowed = double_space if step.op.name == "clean.whitespace" else set()
            assert changed <= allowed, f"{path.name} {step.label} changed {len(changed - allowed)} correct rows"
            assert all(after[i] == re.sub(" {2,}", " ", before[i]) for i in changed)
    assert steps >= 13


@pytest.mark.parametrize("before, after, params", [
    ("對於通過社交媒體，這次與以往有所不同。", "對於通過社交媒體，這次與以往有所不同。", {}),   # width kept
    ("ＡＢＣ，１２３", "ＡＢＣ，１２３", {}),
    ("ＡＢＣ，１２３", "ABC,123", {"fix_width": True}),                                  # only when asked
    ("æ—¥æœ¬èªž", "日本語", {}),                                                          # mojibake repaired
])
def test_clean_unicode_keeps_width_unless_asked(before, after, params) -> None:
    assert _map("clean.unicode", [before], **params) == [after]


@pytest.mark.parametrize("before, to, after", [
    ("對於通過社交媒體", "simplified", "对于通过社交媒体"),
    ("软件和鼠标", "taiwan", "軟體和滑鼠"),
    ("软件", "traditional", "軟件"),
    ("plain English", "simplified", "plain English"),
])
def test_chinese_script_conversion(before, to, after) -> None:
    assert _map("clean.chinese_script", [before], to=to) == [after]


@pytest.mark.parametrize("text, kind, expected", [
    ("他主張嚴刑。", "jieba", ["他", "主张", "严刑"]),                       # Traditional segmented as Simplified
    ("我们在北京见面了。", "jieba", ["我们", "在", "北京", "见面", "了"]),
    ("特别助理 Cory Schulman 在周一写道。", "jieba", ["特别", "助理", "Cory", "Schulman", "在", "周一", "写道"]),
    ("東京で Apple 2024", "chars", ["東", "京", "で", "Apple", "2024"]),
    ("ฉันรัก", "chars", ["ฉั", "น", "รั", "ก"]),                            # vowel marks join their consonant
    ("그들은 누구인가?", "words", ["그들은", "누구인가?"]),                   # Hangul writes spaces
    ("Hello, world!", "words", ["Hello,", "world!"]),
])
def test_units_follow_the_script(text, kind, expected) -> None:
    flat, parents, counts, kinds = units(pa.array([text, "two words"], pa.string()))
    assert kinds[0] == kind and counts[0] == len(expected) and counts[1] == 2
    assert flat.to_pylist()[: len(expected)] == expected


def test_heuristics_count_chinese_words_and_stop_words() -> None:
    frame = pd.DataFrame({"text": ["我们在北京见面了。", "東京で会議がありました。", "the cat sat on the mat ."]})
    out = get("score.heuristics").fn(frame, get("score.heuristics").params(field="text", min_words=4,
                                                                             stopword_languages=["zh", "en"]), {})
    assert list(out["length"]) == [1.0, 1.0, 1.0]
    assert np.isnan(out["word_length"][0]) and np.isnan(out["word_length"][1])
    assert not np.isnan(out["word_length"][2])                 # spaced text keeps the Latin 3-10 bounds
    assert out["alpha_words"][0] == 1.0                        # Han characters are letters
    assert out["stopwords"][0] == 1.0 and np.isnan(out["stopwords"][1])   # 在, 了; no list for character units
    assert out["terminal_punct"][0] == 1.0                     # 。 ends a sentence
    with pytest.raises(ValueError, match="no stop-word list for 'is'"):
        get("score.heuristics").params(stopword_languages=["is"])


@pytest.mark.parametrize("text, lang", [
    ("Barack Obama 和 Donald Trump 在 White House 见面", "zh"),   # Chinese naming English names is Chinese
    ("奥巴马的特别助理 Cory Schulman 在周一发布的 Medium 博客中写道。", "zh"),
    ("對於通過社交媒體來跟踪國會山任職變遷的人而言，這次與以往有所不同。", "zh"),
    ("東京で Apple の新製品が発表された", "ja"),
    ("The word 你好 means hello in Chinese, my teacher said", "en"),
    ("Það er mögulegt að vera með eðlilegt magn blóðrauða en lítinn járnforða", "is"),
])
def test_language_id_on_mixed_text(text, lang) -> None:
    assert top_language(detect_one(text))[0] == lang


def test_chinese_variants_only_when_asked() -> None:
    assert top_language(detect_one("對於通過社交媒體來跟踪國會山"))[0] == "zh"
    assert top_language(detect_one("對於通過社交媒體來跟踪國會山", chinese_variants=True))[0] == "zh-hant"
    assert top_language(detect_one("对于通过社交媒体来跟踪国会山", chinese_variants=True))[0] == "zh-hans"


@pytest.mark.parametrize("recipe", ["multilingual.yaml", "zh.yaml"])
def test_recipes_keep_clean_chinese_rows(pud, recipe) -> None:
    raw = recipes.RECIPES_DIR.joinpath(recipe).read_text(encoding="utf-8")
    text = re.sub(r"expected: \[[^\]]*\]", "expected: [zh]", raw)
    zh = pud[pud["lang"] == "zh"]["text"].tolist()
    outcome = execute(recipes.parse(text, recipe, task="classification"),
                      pd.DataFrame({"id": range(len(zh)), "text": zh}))
    kept = sum(r is None for r in outcome.dropped_by)
    assert kept >= 0.95 * len(zh), f"{recipe} kept {kept} of {len(zh)}"
    assert not outcome.edits


@pytest.mark.parametrize("text, after", [
    ("我的手机号是13812345678，请联系。", "我的手机号是<PHONE>，请联系。"),
    ("电话 +86 138-1234-5678", "电话 <PHONE>"),
    ("身份证号11010519491231002X。", "身份证号<ID_NUMBER>。"),
    ("卡号 6222021234567890128", "卡号 <CREDIT_CARD>"),                      # UnionPay, Luhn-valid
    ("我住在北京市朝阳区建国路88号。", "我住在<ADDRESS>。"),
    ("寄到上海市浦东新区世纪大道100号2号楼301室", "寄到<ADDRESS>"),
    # ordinary numbers and places stay
    ("身份证号110105194912310021", "身份证号110105194912310021"),              # bad check character
    ("订单号 20231201123456789012", "订单号 20231201123456789012"),
    ("1999年有13亿人，GDP增长6.5%", "1999年有13亿人，GDP增长6.5%"),
    ("价格为12345678901元", "价格为12345678901元"),                            # 123… is no mobile prefix
    ("我们在北京见面", "我们在北京见面"),
    ("他住在中山路", "他住在中山路"),                                          # no house number: not an address
])
def test_chinese_pii(text, after) -> None:
    assert redact(text) == after
    assert _map("clean.pii", [text]) == [after]


def test_resident_id_checksum() -> None:
    assert cn_id_ok("11010519491231002X") and cn_id_ok("11010519491231002x")
    assert not cn_id_ok("110105194912310021") and not cn_id_ok("1101051949123100")


SFT_ROWS = [
    # instruction, input, response, expected instruction, expected input (responses never change)
    ("<p>Summarise the <b>email</b> below.</p>", "Hi team,<br>the meeting moved to 3pm.", "The meeting is at 3pm.",
     "Summarise the email below.", "Hi team,\nthe meeting moved to 3pm."),
    ("What does this button do?", "<button id='myButton'>Click me</button>", "It shows a button.",
     "What does this button do?", "<button id='myButton'>Click me</button>"),
    ("Write an HTML page that says hello.", "", "<html><body><p>Hello</p></body></html>",
     "Write an HTML page that says hello.", ""),
    ("<p>Explain the HTML below.</p>", "<p>Hello</p>", "A paragraph holding the word Hello.",
     "<p>Explain the HTML below.</p>", "<p>Hello</p>"),
    ("Sum the vector in C++.", "std::vector<int> a = {1, 2};", "int s = a[0] + a[1];",
     "Sum the vector in C++.", "std::vector<int> a = {1, 2};"),
]


def test_sft_recipe_strips_markup_from_prompts_only() -> None:
    frame = pd.DataFrame({"id": range(len(SFT_ROWS)), "instruction": [r[0] for r in SFT_ROWS],
                          "input": [r[1] for r in SFT_ROWS], "response": [r[2] for r in SFT_ROWS]})
    outcome = execute(recipes.load(recipes.RECIPES_DIR / "sft.yaml", task="sft"), frame)
    final = {(int(i), f): v for t in outcome.edits for i, f, v in zip(t.column("example_id").to_pylist(),
                                                                        t.column("field").to_pylist(),
                                                                        t.column("value").to_pylist())}
    for i, (ins, inp, _, want_ins, want_inp) in enumerate(SFT_ROWS):
        assert final.get((i, "instruction"), ins) == want_ins
        assert final.get((i, "input"), inp) == want_inp
        assert (i, "response") not in final


def test_html_cleans_only_the_asked_chat_roles() -> None:
    messages = json.dumps([{"role": "user", "content": "<p>Make a <b>bold</b> word.</p>"},
                           {"role": "assistant", "content": "<b>word</b>"}])
    recipe = recipes.parse("steps:\n  - op: clean.html\n    roles: [user]\n    only_prose_markup: true\n",
                           "chat.yaml", task="chat")
    outcome = execute(recipe, pd.DataFrame({"id": [0], "messages": [messages]}))
    turns = json.loads(outcome.edits[0].column("value")[0].as_py())
    assert [t["content"] for t in turns] == ["Make a bold word.", "<b>word</b>"]


def test_non_english_text_gets_the_multilingual_encoder(workspace, pud) -> None:
    from curate.embed import MULTILINGUAL, choose_model, embed_cached

    pairs = pud[pud["lang"].isin(["zh", "en"])].pivot(index="sent_id", columns="lang", values="text").head(8)
    zh, en = pairs["zh"].tolist(), pairs["en"].tolist()
    assert choose_model(zh) == MULTILINGUAL and choose_model(en) is None
    assert choose_model(pud[pud["lang"] == "hi"]["text"].head(20).tolist()) is None   # USE does not know Hindi
    vectors = embed_cached(workspace, zh)
    assert vectors.shape == (8, 512)
    english = embed_cached(workspace, en, model_dir=MULTILINGUAL)
    assert ((vectors @ english.T).argmax(1) == np.arange(8)).all()   # each sentence finds its translation
