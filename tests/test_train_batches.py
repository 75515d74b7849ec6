"""Batch order of the training loop: a seeded shuffle, optionally grouped by length."""

from __future__ import annotations

import json
from pathlib import Path

from curate.train.classify import encode, model_dir
from curate.train.loop import GROUP_BATCHES, batch_order
from curate.train.params import TrainParams

SAMPLE = Path(__file__).resolve().parent.parent / "sample_data"


def sst2_lengths() -> list[int]:
    texts = [json.loads(line)["text"] for line in (SAMPLE / "sst2_sentences.jsonl").read_text().splitlines()]
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model_dir(TrainParams()), local_files_only=True)
    return [len(f["input_ids"]) for f in encode(tokenizer, texts, None, 64)]


def padded_tokens(batches: list[list[int]], lengths: list[int]) -> int:
    return sum(len(b) * max(lengths[i] for i in b) for b in batches)


def test_each_epoch_visits_every_row_once_in_full_batches() -> None:
    lengths = sst2_lengths()
    for grouped in (False, True):
        params = TrainParams(batch_size=3, seed=3, group_by_length=grouped)
        batches = batch_order(lengths, params, epoch=0)
        assert sorted(i for b in batches for i in b) == list(range(len(lengths)))
        assert all(len(b) == 3 for b in batches[:-1] if not grouped)
        assert sum(len(b) < 3 for b in batches) <= -(-len(lengths) // (3 * GROUP_BATCHES))  # at most one short per group
        assert batch_order(lengths, params, epoch=0) == batches        # same seed and epoch: same order
        assert batch_order(lengths, params, epoch=1) != batches        # next epoch: reshuffled


def test_grouping_by_length_cuts_padding_and_keeps_the_plain_order_otherwise() -> None:
    import torch

    lengths = sst2_lengths()
    assert len(lengths) >= 4 * GROUP_BATCHES  # more than one group
    plain = batch_order(lengths, TrainParams(batch_size=4, seed=0), epoch=2)
    order = torch.randperm(len(lengths), generator=torch.Generator().manual_seed(0 + 2)).tolist()
    assert plain == [order[i:i + 4] for i in range(0, len(order), 4)]
    grouped = batch_order(lengths, TrainParams(batch_size=4, seed=0, group_by_length=True), epoch=2)
    real = sum(lengths)
    waste_plain = padded_tokens(plain, lengths) - real
    waste_grouped = padded_tokens(grouped, lengths) - real
    assert waste_grouped < 0.2 * waste_plain, (waste_grouped, waste_plain)
    # the batches are shuffled too: not sorted longest-first through the epoch
    longest = [max(lengths[i] for i in b) for b in grouped]
    assert longest != sorted(longest, reverse=True)
