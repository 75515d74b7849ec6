"""Causal-LM SFT on a tiny GPT-2 built from a config, with a tokenizer trained offline on the fixture."""

from __future__ import annotations

from pathlib import Path

import pytest

from curate.train import sft
from curate.train.params import TrainParams

ROWS = [
    {"instruction": "add two and three", "input": "", "response": "five #### 5"},
    {"instruction": "add one and one", "input": "", "response": "two #### 2"},
    {"instruction": "add two and two", "input": "please", "response": "four #### 4"},
    {"instruction": "add one and two", "input": "", "response": "three #### 3"},
] * 4
CHAT = [{"messages": [{"role": "user", "content": "hello there"}, {"role": "assistant", "content": "hi friend"},
                      {"role": "user", "content": "add one and one"}, {"role": "assistant", "content": "two"}]}]


def _tiny_model(folder: Path, *, template: bool) -> Path:
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers
    from transformers import GPT2Config, GPT2LMHeadModel, PreTrainedTokenizerFast

    words = " ".join(f"{r['instruction']} {r['input']} {r['response']}" for r in ROWS)
    words += " hello there hi friend User Assistant ### Instruction Input Response : \n <|user|> <|assistant|>"
    tok = Tokenizer(models.WordLevel(unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    tok.train_from_iterator([words], trainers.WordLevelTrainer(special_tokens=["<unk>", "<pad>", "<eos>"]))
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="<unk>", pad_token="<pad>", eos_token="<eos>")
    if template:
        fast.chat_template = ("{% for m in messages %}<|{{ m['role'] }}|> {{ m['content'] }} "
                              "{% if m['role'] == 'assistant' %}<eos> {% endif %}{% endfor %}"
                              "{% if add_generation_prompt %}<|assistant|> {% endif %}")
    fast.save_pretrained(folder)
    config = GPT2Config(vocab_size=len(fast), n_positions=64, n_embd=32, n_layer=2, n_head=2,
                        eos_token_id=fast.eos_token_id, pad_token_id=fast.pad_token_id, bos_token_id=fast.eos_token_id)
    GPT2LMHeadModel(config).save_pretrained(folder)
    return folder


def test_prompt_tokens_are_masked_in_the_labels(tmp_path: Path) -> None:
    folder = _tiny_model(tmp_path / "m", template=False)
    tokenizer, _ = sft.load(folder)
    enc = sft.encode(tokenizer, ROWS[0], 64)
    answer = tokenizer("five #### 5", add_special_tokens=False)["input_ids"] + [tokenizer.eos_token_id]
    n_prompt = len(enc["input_ids"]) - len(answer)
    assert enc["labels"][:n_prompt] == [sft.IGNORE] * n_prompt
    assert enc["labels"][n_prompt:] == answer == enc["input_ids"][n_prompt:]
    batch = sft.collator(tokenizer.pad_token_id)([enc, sft.encode(tokenizer, ROWS[1], 64)])
    assert batch["labels"].shape == batch["input_ids"].shape
    assert int((batch["labels"][0] != sft.IGNORE).sum()) == len(answer)


def test_chat_template_masks_every_turn_but_the_assistants(tmp_path: Path) -> None:
    folder = _tiny_model(tmp_path / "m", template=True)
    tokenizer, _ = sft.load(folder)
    parts, templated = sft.segments(tokenizer, CHAT[0])
    assert templated
    assert [t for t, trainable in parts if trainable] == ["hi friend <eos> ", "two <eos> "]
    enc = sft.encode(tokenizer, CHAT[0], 64)
    learned = tokenizer.decode([i for i, label in zip(enc["input_ids"], enc["labels"]) if label != sft.IGNORE])
    assert learned.split() == ["hi", "friend", "<eos>", "two", "<eos>"]


def test_sft_trains_and_evaluates_a_tiny_causal_lm(tmp_path: Path) -> None:
    folder = _tiny_model(tmp_path / "m", template=False)
    params = TrainParams(model=str(folder), epochs=8, lr=5e-3, batch_size=4, max_length=64, patience=0,
                         gen_max_new_tokens=6, warmup=0.0)
    trained = sft.train(ROWS, ROWS[:4], params)
    losses = [p.loss for p in trained.fit.history]
    assert trained.fit.steps == 32
    assert sum(losses[-4:]) / 4 < sum(losses[:4]) / 4
    ev = sft.evaluate(trained, ROWS[:4], params)
    assert ev.metrics["loss"] is not None and ev.metrics["perplexity"] >= 1.0
    assert ev.metrics["n_generated"] == 4 and 0.0 <= ev.metrics["exact_match"] <= 1.0
    assert ev.references[:4] == ["5", "2", "4", "3"]
    saved = sft.save(trained, tmp_path / "out")
    assert (saved / "config.json").exists()


@pytest.mark.skipif(not __import__("curate.train.lora", fromlist=["available"]).available(), reason="peft not installed")
def test_sft_with_lora_trains_only_adapters(tmp_path: Path) -> None:
    folder = _tiny_model(tmp_path / "m", template=False)
    params = TrainParams(model=str(folder), max_steps=3, lr=1e-3, batch_size=4, lora=True, lora_r=4,
                         patience=0, gen_limit=0)
    trained = sft.train(ROWS, [], params)
    trainable = [n for n, p in trained.model.named_parameters() if p.requires_grad]
    assert trainable and all("lora" in n for n in trainable)
    assert trained.fit.steps == 3


def test_sft_run_through_the_store_scores_loss_and_exact_match(workspace, tmp_path: Path) -> None:
    import json

    from curate import train, versions
    from curate.ingest import ingest

    folder = _tiny_model(tmp_path / "m", template=False)
    data = tmp_path / "sums.jsonl"
    data.write_text("".join(json.dumps({**r, "idx": i}) + "\n" for i, r in enumerate(
        [{"instruction": f"{q} number {i}", "input": "", "response": a} for i, (q, a) in
         enumerate((r["instruction"], r["response"]) for r in ROWS * 2)])))
    ingest(workspace, [data], "sums")
    versions.create_version(workspace, "sums", "v1", split=(0.75, 0.0, 0.25), seed=0)
    versions.pin_eval_set(workspace, "sums:v1", "test", "sums-test")
    params = TrainParams(model=str(folder), epochs=2, lr=5e-3, batch_size=4, max_length=64, patience=0,
                         gen_max_new_tokens=4)
    run_id = train.create(workspace, "sums:v1", params=params)
    run = train.execute(workspace, run_id)
    assert run.status == "done", run.message
    s = train.scores(workspace, run_id)["sums-test"]
    assert s["loss"] > 0 and s["perplexity"] >= 1 and 0 <= s["exact_match"] <= 1 and s["n_generated"] == s["n"]
    assert "exact_match" in train.metrics_of(workspace, "sums")
    assert (workspace.root / run.artifact / "config.json").exists()
