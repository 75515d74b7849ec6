"""DPO (TRL's DPOTrainer) on a preference version with a tiny GPT-2 built from a config: a few steps
lower the DPO loss, and the run stores held-out preference accuracy per eval set."""

from __future__ import annotations

from pathlib import Path

import pytest

from curate import versions
from curate.ingest import ingest
from curate.store.workspace import Workspace
from curate.train import runner
from curate.train.params import TrainParams
from tests.test_versions import write_jsonl

NUMBERS = ["zero", "one", "two", "three", "four", "five"]
PAIRS = [{"prompt": f"add {a} and {b}", "chosen": NUMBERS[a + b], "rejected": NUMBERS[(a + b + 1) % 6]}
         for a in range(3) for b in range(3)]


def _tiny_lm(folder: Path) -> Path:
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers
    from transformers import GPT2Config, GPT2LMHeadModel, PreTrainedTokenizerFast

    words = " ".join(f"{p['prompt']} {p['chosen']} {p['rejected']}" for p in PAIRS) + " " + " ".join(NUMBERS)
    tok = Tokenizer(models.WordLevel(unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    tok.train_from_iterator([words], trainers.WordLevelTrainer(special_tokens=["<unk>", "<pad>", "<eos>"]))
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="<unk>", pad_token="<pad>", eos_token="<eos>")
    fast.save_pretrained(folder)
    config = GPT2Config(vocab_size=len(fast), n_positions=32, n_embd=32, n_layer=2, n_head=2,
                        eos_token_id=fast.eos_token_id, pad_token_id=fast.pad_token_id, bos_token_id=fast.eos_token_id)
    GPT2LMHeadModel(config).save_pretrained(folder)
    return folder


@pytest.mark.slow
def test_dpo_steps_lower_the_loss_and_store_preference_accuracy(workspace: Workspace, tmp_path: Path) -> None:
    pytest.importorskip("trl")
    ingest(workspace, [write_jsonl(tmp_path / "p.jsonl", PAIRS * 2)], "pref")
    versions.create_version(workspace, "pref", "v1", split=(0.7, 0, 0.3))
    model = _tiny_lm(tmp_path / "lm")
    params = TrainParams(model=str(model), max_steps=6, batch_size=8, lr=1e-2, warmup=0, max_length=32)
    run = runner.execute(workspace, runner.create(workspace, "pref:v1", params=params))
    assert run.status == "done", run.message
    counters = run.counters
    assert counters.first_loss == pytest.approx(0.6931, abs=1e-3)  # log 2: policy == reference at step 1
    assert counters.final_loss < counters.first_loss
    with workspace.connect() as con:
        scores = dict(con.execute("SELECT metric, value FROM eval_results WHERE run_id = ? AND eval_set = 'pref:v1:test'",
                                  [run.id]).fetchall())
        n_items = con.execute("SELECT count(*) FROM eval_predictions WHERE run_id = ?", [run.id]).fetchall()[0][0]
    assert 0 <= scores["preference_accuracy"] <= 1 and scores["n"] == n_items > 0


@pytest.mark.slow
def test_dpo_beta_is_one_setting_from_params_to_margins(tmp_path: Path) -> None:
    """``dpo_beta`` is a bounded TrainParams field (so a CLI option and a Train widget) and scales the
    implicit reward margin the evaluation reports: policy and reference are two different tiny LMs."""
    import torch
    from pydantic import ValidationError
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from curate.train import dpo

    with pytest.raises(ValidationError):
        TrainParams(dpo_beta=0)
    assert TrainParams().dpo_beta == 0.1
    torch.manual_seed(0)
    policy, reference = _tiny_lm(tmp_path / "policy"), _tiny_lm(tmp_path / "reference")
    tuned = dpo.Tuned(AutoModelForCausalLM.from_pretrained(policy), AutoTokenizer.from_pretrained(policy), str(reference))
    rows = [{"example_id": i, "messages": [{"role": "user", "content": p["prompt"]}],
             "chosen": [{"role": "assistant", "content": p["chosen"]}],
             "rejected": [{"role": "assistant", "content": p["rejected"]}]} for i, p in enumerate(PAIRS[:3])]
    low, high = dpo.margins(tuned, rows, 0.1), dpo.margins(tuned, rows, 0.5)
    assert any(abs(x) > 1e-6 for x in low)
    assert high == pytest.approx([5 * x for x in low], rel=1e-4)
    metrics, _, _ = dpo.evaluate(tuned, rows, TrainParams(dpo_beta=0.5))
    assert metrics["reward_margin"] == pytest.approx(sum(high) / 3, rel=1e-4)
