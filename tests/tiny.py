"""Tiny transformers built from configs (a few thousand weights), so training tests take seconds."""

from __future__ import annotations

from pathlib import Path
from typing import Iterable


def tiny_bert(folder: Path, texts: Iterable[str], *, layers: int = 2) -> Path:
    """A 2-layer BERT (hidden 32) with a word-level tokenizer trained on ``texts``, saved to ``folder``."""
    from tokenizers import Tokenizer, models, pre_tokenizers, processors, trainers
    from transformers import BertConfig, BertForSequenceClassification, PreTrainedTokenizerFast

    tok = Tokenizer(models.WordLevel(unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.train_from_iterator(list(texts), trainers.WordLevelTrainer(
        special_tokens=["[PAD]", "[UNK]", "[CLS]", "[SEP]"], vocab_size=2000))
    tok.post_processor = processors.TemplateProcessing(single="[CLS] $A [SEP]",
                                                       special_tokens=[("[CLS]", 2), ("[SEP]", 3)])
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="[UNK]", pad_token="[PAD]",
                                   cls_token="[CLS]", sep_token="[SEP]")
    fast.save_pretrained(folder)
    config = BertConfig(vocab_size=len(fast), hidden_size=32, num_hidden_layers=layers, num_attention_heads=2,
                        intermediate_size=64, max_position_embeddings=128, pad_token_id=0)
    BertForSequenceClassification(config).save_pretrained(folder)
    return folder
