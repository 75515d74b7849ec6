"""PII redaction with regular expressions and checksums, offline: typed placeholders like ``<EMAIL>``.

Card numbers must pass the Luhn check and IBANs the ISO 13616 mod-97 check, IP addresses must parse,
and phone numbers need 9–15 digits, so prices, years and ids are left alone.

Mainland China: mobile numbers (11 digits, ``1[3-9]`` and a carrier prefix, optionally ``+86``),
resident ID numbers (18 characters: region, a real birth date, sequence and the ISO 7064 MOD 11-2
check character, GB 11643-1999), bank cards (the Luhn check above: UnionPay ``62…`` numbers are cards)
and addresses where the form tells: administrative units (省 市 区 县 镇 …) optionally, then a road or
street (路 街 道 巷 胡同 弄) with a house number (``88号``); free-form places ("在北京") are not addresses.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Callable, Literal

import pyarrow as pa
import pyarrow.compute as pc
from pydantic import Field

from curate.ops.mappers import MapperParams, only_where
from curate.ops.base import Operator

PiiKind = Literal["secret", "email", "iban", "cn_id", "cn_mobile", "credit_card", "ip_address", "phone",
                  "cn_address"]
PLACEHOLDER = {"secret": "<SECRET>", "email": "<EMAIL>", "iban": "<IBAN>", "cn_id": "<ID_NUMBER>",
               "credit_card": "<CREDIT_CARD>", "ip_address": "<IP_ADDRESS>", "cn_mobile": "<PHONE>",
               "phone": "<PHONE>", "cn_address": "<ADDRESS>"}
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


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


def cn_id_ok(number: str) -> bool:
    """The ISO 7064 MOD 11-2 check character of an 18-character mainland resident ID number."""
    if len(number) != 18 or not number[:17].isdigit():
        return False
    total = sum(int(d) * w for d, w in zip(number[:17], _ID_WEIGHTS))
    return "10X98765432"[total % 11] == number[17].upper()


def _cn_id(m: re.Match) -> bool:
    return cn_id_ok(m.group())


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


# Applied in this order: secrets and emails first, so their digits never look like phones or cards;
# Chinese IDs and mobiles before cards, so an 18-digit ID or a +86 number never passes as a card.
PATTERNS: list[tuple[str, re.Pattern, Callable[[re.Match], bool] | None]] = [
    ("secret", re.compile(
        r"\b(?:sk-(?:proj-)?[A-Za-z0-9_\-]{20,}|gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{40,}"
        r"|AKIA[0-9A-Z]{16}|AIza[0-9A-Za-z_\-]{35}|xox[abposr]-[A-Za-z0-9\-]{10,}"
        r"|eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,})"
        r"|(?i:bearer)\s+[A-Za-z0-9._~+/=\-]{20,}"), None),
    ("email", re.compile(r"\b[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}\b"), None),
    ("iban", re.compile(r"\b[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]{4}){2,7}(?:[ ]?[A-Z0-9]{1,3})?\b"), _iban),
    ("cn_id", re.compile(r"(?<![\dA-Za-z])[1-9]\d{5}(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])"
                         r"\d{3}[\dXx](?![\dA-Za-z])"), _cn_id),
    ("cn_mobile", re.compile(r"(?<![\d.A-Za-z+])(?:(?:\+|00)86[ \-]?)?1(?:3\d|4[5-9]|5[0-35-9]|6[2567]|7[0-8]|8\d|9[0-35-9])"
                             r"(?:\d{8}|[ \-]\d{4}[ \-]\d{4})(?![\d.])"), None),
    ("credit_card", re.compile(r"(?<![\d\-])\d(?:[ \-]?\d){12,18}(?![\d\-])"), _card),
    ("ip_address", re.compile(r"(?<![\w:.])(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}(?![\w:])"
                              r"|(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?!\w|\.\d)"), _ip),
    ("phone", re.compile(r"(?<![\w+])(?:\+\d{1,3}[ .\-]?)?(?:\(\d{1,4}\)[ .\-]?)?\d{2,4}(?:[ .\-]\d{2,4}){1,3}(?![\w])"),
     _phone),
]
_HAN = "\u4e00-\u9fff"
_ADDRESS = re.compile(
    f"(?![在住于於到从從是的和与與为為往去来來寄送址我你他她])"
    f"(?:[{_HAN}]{{2,6}}(?:省|自治区|自治區|特别行政区|特別行政區))?"
    f"(?:[{_HAN}]{{2,6}}(?:市|州|盟|地区|地區))?"
    f"(?:[{_HAN}]{{1,6}}(?:区|區|县|縣|旗))?(?:[{_HAN}]{{1,6}}(?:镇|鎮|乡|鄉|街道))?"
    f"[{_HAN}]{{1,10}}(?:路|街|大道|巷|胡同|弄)[0-9０-９]+(?:号|號)"
    f"(?:[0-9０-９A-Za-z\\-]+(?:号楼|號樓|栋|棟|幢|座|楼|樓|单元|單元|层|層|室))*")
PATTERNS.append(("cn_address", _ADDRESS, None))
_HINT = (r"@|[路街道巷弄同][0-9０-９]+[号號]|"
         r"\d{4}|\d\.\d{1,3}\.\d|[A-Z]{2}\d{2}|sk-|gh[pousr]_|github_pat_|AKIA|AIza|xox|eyJ|[0-9A-Fa-f]:[0-9A-Fa-f]*:|[Bb]earer")


class PiiParams(MapperParams):
    kinds: list[PiiKind] = Field(
        ["secret", "email", "iban", "cn_id", "cn_mobile", "credit_card", "ip_address", "phone", "cn_address"],
        min_length=1, max_length=9,
        description="What to redact: secret (API keys, tokens), email, iban, cn_id (mainland resident ID, "
                    "checksummed), credit_card (Luhn-checked), ip_address (v4 and v6), cn_mobile (mainland "
                    "mobile), phone, cn_address (Chinese road + house number).")


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


PII = Operator("clean.pii", "mapper", PiiParams, redact_pii,
               "Redact emails, phones, IPv4/IPv6, Luhn-valid cards, mod-97-valid IBANs and API keys "
               "with typed placeholders (<EMAIL>, <PHONE>, ...).")

OPERATORS = [PII]
