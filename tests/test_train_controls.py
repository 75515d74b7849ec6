"""Each training control changes what it should, on a tiny BERT built from a config (seconds)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from curate.errors import InputError
from curate.train import classify
from curate.train.params import TrainParams
from tests.tiny import tiny_bert

SAMPLE = Path(__file__).resolve().parent.parent / "sample_data"


@pytest.fixture(scope="module")
def rows() -> list[dict]:
    return [json.loads(line) for line in (SAMPLE / "sst2_sentences.jsonl").read_text().splitlines()[:64]]


@pytest.fixture(scope="module")
def model(tmp_path_factory, rows) -> str:
    return str(tiny_bert(tmp_path_factory.mktemp("bert"), [r["text"] for r in rows]))


def _weights(model) -> dict:
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def _initial(params: TrainParams, rows) -> dict:
    """The weights a fit starts from (same folder, classes and seed)."""
    _, m = classify.load(classify.model_dir(params), classify.classes_of(rows), seed=params.seed)
    return _weights(m)


def _fit(rows, **settings) -> classify.Classifier:
    base = dict(epochs=1, batch_size=8, lr=1e-2, max_length=32, patience=0, warmup=0.0)
    return classify.train(rows, [], TrainParams(**{**base, **settings}))


def test_training_only_the_top_layer_leaves_every_frozen_weight_bit_identical(model, rows) -> None:
    params = TrainParams(model=model, train_top_layers=1)
    before = _initial(params, rows)
    after = _weights(_fit(rows, model=model, train_top_layers=1).model)
    frozen = [k for k in before if k.startswith(("bert.embeddings.", "bert.encoder.layer.0."))]
    trained = [k for k in before if k.startswith(("bert.encoder.layer.1.", "classifier."))]
    assert frozen and trained
    assert all(bool((before[k] == after[k]).all()) for k in frozen)
    assert all(not bool((before[k] == after[k]).all()) for k in trained if k.endswith("weight"))


def test_freezing_the_embeddings_keeps_them_and_trains_the_layers(model, rows) -> None:
    before = _initial(TrainParams(model=model), rows)
    after = _weights(_fit(rows, model=model, freeze_embeddings=True).model)
    assert all(bool((before[k] == after[k]).all()) for k in before if k.startswith("bert.embeddings."))
    assert not bool((before["bert.encoder.layer.0.attention.self.query.weight"] ==
                     after["bert.encoder.layer.0.attention.self.query.weight"]).all())


def test_accumulating_4_batches_of_8_matches_one_batch_of_32(model, rows) -> None:
    import torch

    big = _fit(rows, model=model, batch_size=32, dropout=0.0)
    small = _fit(rows, model=model, batch_size=8, grad_accum=4, dropout=0.0)
    assert big.fit.steps == small.fit.steps == 2
    assert [round(p.loss, 4) for p in big.fit.history] == pytest.approx([p.loss for p in small.fit.history], abs=1e-3)
    a, b = _weights(big.model), _weights(small.model)
    assert max(float((a[k] - b[k]).abs().max()) for k in a) < 1e-4
    assert not torch.equal(a["classifier.weight"], _initial(TrainParams(model=model), rows)["classifier.weight"])


def test_exponential_decay_multiplies_the_rate_by_gamma_after_warm_up(model, rows) -> None:
    clf = _fit(rows, model=model, schedule="exponential", gamma=0.5, warmup_steps=2, lr=1e-3, max_steps=6,
               batch_size=4)
    lrs = [p.lr for p in clf.fit.history]
    assert lrs == pytest.approx([0.0, 0.5e-3, 1e-3, 0.5e-3, 0.25e-3, 0.125e-3])


def test_dropout_override_reaches_every_dropout_of_the_model(model, rows) -> None:
    import torch

    from curate.train import controls

    params = TrainParams(model=model, dropout=0.3)
    overrides = controls.dropout_config(model, params)
    assert overrides["hidden_dropout_prob"] == overrides["attention_probs_dropout_prob"] == 0.3
    _, m = classify.load(Path(model), ["0", "1"], config=overrides)
    controls.apply(m, params)
    ps = {mod.p for mod in m.modules() if isinstance(mod, torch.nn.Dropout)}
    assert ps == {0.3} and m.config.attention_probs_dropout_prob == 0.3


def test_training_arguments_come_from_params_and_pass_through_by_name(tmp_path) -> None:
    from curate.train.device import Device
    from curate.train.trainer import arguments

    params = TrainParams(lr=3e-4, batch_size=8, grad_accum=2, warmup_steps=5, schedule="cosine", seed=7,
                         max_grad_norm=0.5, args={"adam_beta2": 0.98, "optim": "adamw_torch"})
    args = arguments(params, Device("cpu"), tmp_path, None, 64)
    assert (args.learning_rate, args.per_device_train_batch_size, args.gradient_accumulation_steps,
            args.warmup_steps, args.lr_scheduler_type.value, args.seed, args.max_grad_norm, args.adam_beta2) == \
        (3e-4, 8, 2, 5, "cosine", 7, 0.5, 0.98)
    with pytest.raises(ValueError, match="no field 'adam_beta3'; did you mean adam_beta2"):
        TrainParams(args={"adam_beta3": 0.9})
    with pytest.raises(ValueError, match="set by curate; use --lr"):
        TrainParams(args={"learning_rate": 0.1})


def test_precision_fp16_is_refused_without_a_gpu_and_bf16_runs_on_cpu(model, rows) -> None:
    from curate.train.device import choose_device

    assert choose_device("auto").precision == "fp32"
    with pytest.raises(InputError, match="fp16 mixed precision needs a CUDA GPU"):
        choose_device("fp16")
    clf = _fit(rows, model=model, precision="bf16", max_steps=2)
    assert str(clf.device) == "cpu (bf16)" and clf.fit.steps == 2
    preds, probs, _ = classify.predict(clf, [r["text"] for r in rows[:4]], TrainParams(max_length=32))
    assert len(preds) == 4 and probs.shape == (4, 2)


def test_cli_reads_defaults_and_bounds_from_train_params() -> None:
    from typer.testing import CliRunner

    from curate.cli import app

    help_text = " ".join(CliRunner().invoke(app, ["train", "--help"], env={"COLUMNS": "400"}).output.split())
    for flag, text in (("--max-length", "(default 128; 8..8192)"), ("--batch-size", "(default 16; 1..4096)"),
                       ("--grad-accum", "(default 1; 1..1024)"), ("--lora-r", "(default 8; 1..256)")):
        assert flag in help_text and text in help_text, flag
    out = CliRunner().invoke(app, ["train", "x:v1", "--arg", "lerning_rate=1"])
    assert out.exit_code == 1 and "--arg" in out.output and "did you mean learning_rate" in out.output


def test_search_space_is_parsed_and_checked_against_train_params() -> None:
    from curate.train.search import parse_space, sampler_for

    dims = parse_space("lr=1e-5:1e-3:log,batch_size=16|32,warmup=0:0.2,epochs=1:3")
    assert [(d.name, d.low, d.high, d.log, d.choices, d.integer) for d in dims] == [
        ("lr", 1e-5, 1e-3, True, None, False), ("batch_size", None, None, False, (16, 32), False),
        ("warmup", 0.0, 0.2, False, None, False), ("epochs", 1.0, 3.0, False, None, False)]
    assert parse_space("schedule=linear|cosine")[0].choices == ("linear", "cosine")
    for spec, message in (("lerning_rate=1:2", "not a searchable setting"), ("lr=1e-3:1e-5", "the range is empty"),
                          ("batch_size=16|0", "greater than or equal to 1"), ("lr=1e-5", "expected a range"),
                          ("schedule=linear|steep", "Input should be"), ("model=a|b", "not a searchable")):
        with pytest.raises(InputError, match=message):
            parse_space(spec)
    with pytest.raises(InputError, match="grid search needs choices"):
        sampler_for("grid", dims, 0)
    assert type(sampler_for("grid", dims[1:2], 0)).__name__ == "GridSampler"


def test_cli_search_refuses_a_version_without_validation_and_unknown_settings(workspace, tmp_path) -> None:
    from typer.testing import CliRunner

    from curate import versions
    from curate.cli import app
    from curate.ingest import ingest
    from curate.train import searches

    lines = (SAMPLE / "sst2_sentences.jsonl").read_text().splitlines()[:20]
    (tmp_path / "s.jsonl").write_text("\n".join(lines) + "\n")
    ingest(workspace, [tmp_path / "s.jsonl"], "sst2")
    versions.create_version(workspace, "sst2", "v1", split=(1, 0, 0))
    base = ["-w", str(workspace.root), "train", "sst2:v1"]
    out = CliRunner().invoke(app, [*base, "--search", "lr=1e-5:1e-3:log"])
    assert out.exit_code == 1 and "chooses on the validation split" in out.output
    out = CliRunner().invoke(app, [*base, "--search", "lerning_rate=1e-5:1e-3"])
    assert out.exit_code == 1 and "not a searchable setting" in out.output
    out = CliRunner().invoke(app, [*base, "--search", "lr=1e-5:1e-3", "--sampler", "grid"])
    assert out.exit_code == 1 and "grid search needs choices" in out.output
    assert searches(workspace, "sst2") == []  # nothing recorded by a refused search
