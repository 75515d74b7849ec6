"""PII redaction with regular expressions and checksums, offline: typed placeholders like ``<EMAIL>``.

Card numbers must pass the Luhn check and IBANs the ISO 13616 mod-97 check, IP addresses must parse,
and phone numbers need 9–15 digits, so prices, years and ids are left alone.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Callable, Literal

import pyarrow as pa
import pyarrow.compute as pc
from pydantic import Field

from curate.ops.mappers import MapperParams, only_where
from curate.ops.registry import Operator, register

PiiKind = Literal["secret", "email", "iban", "credit_card", "ip_address", "phone"]
PLACEHOLDER = {"secret": "<SECRET>", "email": "<EMAIL>", "iban": "<IBAN>", "credit_card": "<CREDIT_CARD>",
               "ip_address": "<IP_ADDRESS>", "phone": "<PHONE>"}


def luhn_ok(digits: str) -> bool:
    """The Luhn checksum of a card number (digits only)."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def iban_ok(iban: str) -> bool:
    """The ISO 13616 mod-97 check of an IBAN (spaces removed, upper case)."""
    if not 15 <= len(iban) <= 34 or not iban[:2].isalpha() or not iban[2:4].isdigit():
        return False
    moved = iban[4:] + iban[:4]
    return int("".join(str(int(c, 36)) for c in moved)) % 97 == 1


def _card(m: re.Match) -> bool:
    digits = re.sub(r"\D", "", m.group())
    return 13 <= len(digits) <= 19 and luhn_ok(digits)


def _iban(m: re.Match) -> bool:
    return iban_ok(re.sub(r"\s", "", m.group()).upper())


def _ip(m: re.Match) -> bool:
    try:
        ipaddress.ip_address(m.group())
    except ValueError:
        return False
    return True


def _phone(m: re.Match) -> bool:
    text = m.group()
    digits = re.sub(r"\D", "", text)
    return 9 <= len(digits) <= 15 and (text.startswith(("+", "(")) or len(re.findall(r"[ .\-)]", text)) >= 2)


# Applied in this order: secrets and emails first, so their digits never look like phones or cards.
PATTERNS: list[tuple[str, re.Pattern, Callable[[re.Match], bool] | None]] = [
    ("secret", re.compile(
        r"\b(?:sk-(?:proj-)?[A-Za-z0-9_\-]{20,}|gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{40,}"
        r"|AKIA[0-9A-Z]{16}|AIza[0-9A-Za-z_\-]{35}|xox[abposr]-[A-Za-z0-9\-]{10,}"
        r"|eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,})"
        r"|(?i:bearer)\s+[A-Za-z0-9._~+/=\-]{20,}"), None),
    ("email", re.compile(r"\b[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}\b"), None),
    ("iban", re.compile(r"\b[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]{4}){2,7}(?:[ ]?[A-Z0-9]{1,3})?\b"), _iban),
    ("credit_card", re.compile(r"(?<![\d\-])\d(?:[ \-]?\d){12,18}(?![\d\-])"), _card),
    ("ip_address", re.compile(r"(?<![\w:.])(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}(?![\w:])"
                              r"|(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?!\w|\.\d)"), _ip),
    ("phone", re.compile(r"(?<![\w+])(?:\+\d{1,3}[ .\-]?)?(?:\(\d{1,4}\)[ .\-]?)?\d{2,4}(?:[ .\-]\d{2,4}){1,3}(?![\w])"),
     _phone),
]
_HINT = r"@|\d{4}|\d\.\d{1,3}\.\d|[A-Z]{2}\d{2}|sk-|gh[pousr]_|github_pat_|AKIA|AIza|xox|eyJ|[0-9A-Fa-f]:[0-9A-Fa-f]*:|[Bb]earer"


class PiiParams(MapperParams):
    kinds: list[PiiKind] = Field(
        ["secret", "email", "iban", "credit_card", "ip_address", "phone"], min_length=1, max_length=6,
        description="What to redact: secret (API keys, tokens), email, iban, credit_card (Luhn-checked), "
                    "ip_address (v4 and v6), phone.")


def redact(text: str, kinds: tuple[str, ...] | list[str] = tuple(PLACEHOLDER)) -> str:
    """``text`` with every PII match of ``kinds`` replaced by its typed placeholder."""
    for kind, pattern, valid in PATTERNS:
        if kind in kinds:
            tag = PLACEHOLDER[kind]
            text = pattern.sub(lambda m: tag if valid is None or valid(m) else m.group(), text)
    return text


def redact_pii(values: pa.Array, p: PiiParams) -> pa.Array:
    """Typed placeholders for PII, only in rows where a cheap vectorised test finds a candidate."""
    kinds = tuple(p.kinds)
    return only_where(values, pc.match_substring_regex(values, _HINT), lambda s: redact(s, kinds))


register(Operator("clean.pii", "mapper", PiiParams, redact_pii,
                  "Redact emails, phones, IPv4/IPv6, Luhn-valid cards, mod-97-valid IBANs and API keys "
                  "with typed placeholders (<EMAIL>, <PHONE>, ...)."))
