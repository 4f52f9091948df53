"""What the PII tests share: the positive and look-alike example texts, ``found`` (the readable
form of :func:`refinery.text.pii.find`), the case-set bench and its quality bar."""

from __future__ import annotations

import importlib
import sys
from types import ModuleType

from refinery.text import pii
from refinery.text.pii import (
    BANK_CARD,
    CN_ID,
    CN_LANDLINE,
    CN_MOBILE,
    CN_PASSPORT,
    CN_USCC,
    EMAIL,
    IBAN,
    IPV4,
    IPV6,
    PHONE,
    URL_SECRET,
    US_SSN,
    PiiOptions,
    find,
)
from tests.support.paths import ROOT


def _bench() -> ModuleType:
    """``bench/pii_bench.py``, which holds the case-set scoring (a pure function per set)."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    return importlib.import_module("bench.pii_bench")


def found(text: str, options: PiiOptions = pii.DEFAULT) -> list[tuple[str, str]]:
    """``(type, matched text)`` pairs, the readable form of :func:`find`."""
    return [(span.type, text[span.start : span.end]) for span in find(text, options)]


# ------------------------------------------------------------------------------- find: positives

POSITIVES = [
    ("邮箱 zhang.san+cn@mail.example.com.cn。", EMAIL, "zhang.san+cn@mail.example.com.cn"),
    ("mail a@xn--d1acufc.xn--p1ai now", EMAIL, "a@xn--d1acufc.xn--p1ai"),
    ("我的手机号是13812345678", CN_MOBILE, "13812345678"),
    ("电话：138 1234 5678，", CN_MOBILE, "138 1234 5678"),
    ("call 0086-138-1234-5678.", CN_MOBILE, "0086-138-1234-5678"),
    ("(+86)13912345678", CN_MOBILE, "(+86)13912345678"),
    ("座机010-65529988转123", CN_LANDLINE, "010-65529988转123"),
    ("电话(0755)23456789", CN_LANDLINE, "(0755)23456789"),
    ("电话（021）6888-9999。", CN_LANDLINE, "（021）6888-9999"),
    ("手机（+86）139 1234 5678", CN_MOBILE, "（+86）139 1234 5678"),
    ("上海021 6888 9999", CN_LANDLINE, "021 6888 9999"),
    ("London +44 (20) 7123 4567.", PHONE, "+44 (20) 7123 4567"),
    ("(+1 415-555-0132)", PHONE, "+1 415-555-0132"),
    ("Call (555) 123-4567 today.", PHONE, "(555) 123-4567"),
    ("Call 555.123.4567 today.", PHONE, "555.123.4567"),
    ("Call 202-555-0143 today.", PHONE, "202-555-0143"),
    ("Call 1-800-555-0199 today.", PHONE, "1-800-555-0199"),
    ("Ring 07700 900123 after six.", PHONE, "07700 900123"),
    ("Appelez le 06 12 34 56 78 demain.", PHONE, "06 12 34 56 78"),
    ("Call 09061701461 now", PHONE, "09061701461"),
    ("phone: 4155550132", PHONE, "4155550132"),
    ("Call 001-555-123-4567 now", PHONE, "001-555-123-4567"),
    ("Call 555-123-4567x890 now", PHONE, "555-123-4567x890"),
    ("Call +44 7700 900123 now", PHONE, "+44 7700 900123"),
    ("PHONE + 45 36 72 33 00, bye", PHONE, "+ 45 36 72 33 00"),
    ("IBAN GB82 WEST 1234 5698 7654 32 AND more", IBAN, "GB82 WEST 1234 5698 7654 32"),
    ("汇款至DE89370400440532013000。", IBAN, "DE89370400440532013000"),
    ("SSN 078-05-1123.", US_SSN, "078-05-1123"),
    ("ssn: 078.05.1123", US_SSN, "078.05.1123"),
    ("my social security number is 536221234", US_SSN, "536221234"),
    ("身份证11010519491231002X号", CN_ID, "11010519491231002X"),
    ("ID 110105 19491231 002X", CN_ID, "110105 19491231 002X"),
    ("旧证110105491231002", CN_ID, "110105491231002"),
    ("卡号6228-4800-1234-5671", BANK_CARD, "6228-4800-1234-5671"),
    ("银行卡：6222021234567890128，", BANK_CARD, "6222021234567890128"),
    ("card 6222 0212 3456 7890 128 ok", BANK_CARD, "6222 0212 3456 7890 128"),
    ("Amex 3714 496353 98431", BANK_CARD, "3714 496353 98431"),
    ("统一社会信用代码：91350100M000100Y43", CN_USCC, "91350100M000100Y43"),
    ("护照号码EA1234567", CN_PASSPORT, "EA1234567"),
    ("港澳通行证 C12345678", CN_PASSPORT, "C12345678"),
    ("host 8.8.8.8:53 down", IPV4, "8.8.8.8"),
    ("subnet 10.0.0.0/8,", IPV4, "10.0.0.0/8"),
    ("ip=2001:4860:4860::8888;", IPV6, "2001:4860:4860::8888"),
    ("see https://bob:hunter2@db.example.com:5432/app).", URL_SECRET, "https://bob:hunter2@db.example.com:5432/app"),
    ("链接https://api.example.com/v1?user=7&access_token=abc123XYZ获取", URL_SECRET, None),
    ("s3 https://b.s3.amazonaws.com/k?X-Amz-Signature=deadbeef99&x=1", URL_SECRET, None),
    ("oauth https://app.example.com/cb#access_token=ya29.a0Af", URL_SECRET, None),
]


# ------------------------------------------------------------------------------ find: look-alikes

NEGATIVES = [
    "会议定于2024-01-15召开",
    "日期20240115和时间 12:30:45",
    "2024-01-15T12:30:45Z",
    "订单号：202401151234567890",
    "订单号ORDER12345678901234",
    "产品编号ABC4111111111111111XYZ",
    "编号A4111111111111111",
    "价格¥1,234.56元，原价￥12,345,678.00",
    "uuid 123e4567-e89b-12d3-a456-426614174000",
    "guid {3F2504E0-4F89-11D3-9A0C-0305E82C3301}",
    "timestamp 1748503543012 ms",
    "ns 1748503543012345678",
    "long run 41111111111111111111111",
    "not luhn 4111111111111112",
    "数字12345678901不是手机号",
    "13812345678901 is too long",
    "version 1.2.3 and 1.2.3.4.5 and 999.1.1.1",
    "OID 1.3.6.1.4.1.2021",
    "ratio 1:2:3:4, time 12:34:56, MAC aa:bb:cc:dd:ee:ff, std::cout",
    "Home :: News :: Sports",
    "score +5 and +100 000 points",
    "订单号：2024011512，共3件",
    "Order #4155550132 shipped",
    "ZIP 07805-1121, season 2004-2005, due 15.01.2024",
    "Population 1.234.567, pi 3.14159265",
    "call 202-555-0143-7 again",
    "Hotel 4155550132 and messages 078051121",
    "表 3062.30.85 66.2878.23, pp. 2526-2534, 97:9777- 9783",
    "see https://bbs.qyer.com/thread-2970558-1.html and /articles/20200317/04381644114/volunteer",
    "blog/2023-09-19-64-bit and oldnewthing/20250805-00/?p=111435",
    "standings 4-6 Lost 2   02-05  02-04",
    "MAC: 01-23-45-67-89-AB",
    "lnC=-0.0260t + 3.9126.650.9617 and +33.477820x3 +(-91.405833) x4",
    "相位计6620(6500)、文章编号 0438-0 460（2001）01-0148-06、1006-0766（2000）06-0048-07",
    "table -1-4-4-4-5-4-4-1000321, 贷款约在3500-4000亿之间, 2167.941.75.88 0669.5442.77",
    "ISBN 0-415-17076-1, slug since-1986-2545781, fraction 1/89 = .01123595505...",
    "url /group/2100-1039_3-5365922.html and id_0800-542-0825",
    "SSN 000-12-3456, 666-12-3456, 912-34-5678 and 123-45-0000 are invalid",
    "IBAN GB00 WEST 1234 5698 7654 32 has a bad check",
    "18-char code 91310000552936878K (bad check)",
    "型号 G1234 次列车, P12345678 零件",
    "plain https://example.com/search?q=token&key=ab and https://webhook.site/a?q=1&b=2",
    "see info@presidio. and hello-world",
    "",
]


def _meets_bar(per_type: dict, recall: float = 0.95, precision: float = 0.98) -> None:
    for name, tally in per_type.items():
        if tally["gold"]:
            assert tally["recall"] >= recall, (name, tally)
        if tally["predicted"]:
            assert tally["precision"] >= precision, (name, tally)
