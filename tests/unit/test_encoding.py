"""Unit tests of :mod:`refinery.text.encoding` (no Spark)."""

from __future__ import annotations

import codecs
import os
from pathlib import Path

import pytest

from refinery.text.encoding import (
    DecodedLine,
    decode_lines,
    detect_encoding,
    find_lone_surrogate,
    is_wide_encoding,
    normalize_codec_name,
    printable_payload,
    strip_bom,
)
from tests.support.paths import ROOT


def corpora_dir() -> Path:
    """``../shared/corpora`` next to the checkout, or ``$REFINERY_CORPORA``; missing is an error."""
    path = Path(os.environ.get("REFINERY_CORPORA", ROOT.parent / "shared" / "corpora")).resolve()
    if not path.is_dir():
        pytest.fail(f"shared corpora not found at {path}; set REFINERY_CORPORA")
    return path


def texts(lines: list[DecodedLine]) -> list[str | None]:
    return [line.text for line in lines]


#: A few real Chinese sentences: several hundred bytes once encoded.
CHINESE = (
    "今天天气很好，我们一起去公园散步吧。\n"
    "北京是中华人民共和国的首都，也是全国的政治和文化中心。\n"
    "这家酒店的服务非常周到，房间干净整洁，下次出差还会选择这里。\n"
    "人工智能技术正在改变我们的生活方式和工作方式。\n"
    "长江是中国第一大河，全长约六千三百公里，流经十一个省级行政区。\n"
    "春节是中国最重要的传统节日，家家户户都会贴春联、吃饺子。\n"
)

GB_FAMILY = {"gb18030", "gbk", "gb2312", "hz"}


# --------------------------------------------------------------------------------------------
# Byte-order marks


@pytest.mark.parametrize(
    ("bom", "codec", "expected"),
    [
        (codecs.BOM_UTF8, "utf-8", "utf-8"),
        (codecs.BOM_UTF16_LE, "utf-16-le", "utf-16-le"),
        (codecs.BOM_UTF16_BE, "utf-16-be", "utf-16-be"),
        (codecs.BOM_UTF32_LE, "utf-32-le", "utf-32-le"),
        (codecs.BOM_UTF32_BE, "utf-32-be", "utf-32-be"),
    ],
)
def test_bom_is_detected_stripped_and_decodes(bom: bytes, codec: str, expected: str) -> None:
    text = "héllo wörld\n第二行\n"
    data = bom + text.encode(codec)

    body, named = strip_bom(data)
    assert named == expected
    assert body == text.encode(codec)
    assert detect_encoding(data) == expected

    lines = list(decode_lines(data))
    assert texts(lines) == ["héllo wörld", "第二行"]
    assert [line.line_no for line in lines] == [1, 2]
    assert all(line.encoding == expected and line.error is None for line in lines)
    # The BOM is not part of the first line's text.
    assert not lines[0].text.startswith("\ufeff")


def test_utf32_le_bom_is_not_mistaken_for_utf16_le() -> None:
    # The UTF-32-LE mark begins with the UTF-16-LE one (FF FE 00 00 vs FF FE).
    data = codecs.BOM_UTF32_LE + "ab\n".encode("utf-32-le")
    assert strip_bom(data)[1] == "utf-32-le"
    assert texts(list(decode_lines(data))) == ["ab"]


def test_no_bom_leaves_data_untouched() -> None:
    assert strip_bom(b"plain") == (b"plain", None)


def test_utf8_bom_with_explicit_utf8_sig_encoding() -> None:
    lines = list(decode_lines(codecs.BOM_UTF8 + b"caf\xc3\xa9\n", "utf-8-sig"))
    assert texts(lines) == ["café"]
    assert lines[0].encoding == "utf-8"


def test_explicit_utf16_honours_a_big_endian_bom() -> None:
    data = codecs.BOM_UTF16_BE + "hi\nyo\n".encode("utf-16-be")
    assert texts(list(decode_lines(data, "utf-16"))) == ["hi", "yo"]


# --------------------------------------------------------------------------------------------
# Detection


def test_strict_utf8_is_preferred() -> None:
    data = "café naïve résumé — “quoted” 中文\n".encode()
    assert detect_encoding(data) == "utf-8"
    assert texts(list(decode_lines(data))) == ["café naïve résumé — “quoted” 中文"]


@pytest.mark.parametrize("order", ["le", "be"])
def test_utf16_without_bom_is_not_mistaken_for_utf8(order: str) -> None:
    # ASCII in BOM-less UTF-16 is valid UTF-8 (letters and NULs alternating)
    data = "first plain line\nsecond line\n".encode(f"utf-16-{order}")
    data.decode("utf-8")
    assert detect_encoding(data) == f"utf-16-{order}"
    assert texts(list(decode_lines(data))) == ["first plain line", "second line"]


@pytest.mark.parametrize(
    "data",
    [b"a few NULs\x00 in\x00 utf-8 text\n" * 4, bytes(range(256)) * 4, b"\x00" * 64],
    ids=["utf8-with-nuls", "binary", "all-nul"],
)
def test_utf16_guess_needs_nuls_on_one_side_only(data: bytes) -> None:
    assert not detect_encoding(data).startswith("utf-16")


def test_find_lone_surrogate() -> None:
    assert find_lone_surrogate("plain 中文 😀") is None
    assert find_lone_surrogate("ab\ud800c") == 2
    assert find_lone_surrogate("\udfff") == 0


def test_utf8_sample_cut_inside_a_character_is_still_utf8() -> None:
    data = "中文文本".encode()
    sample = data[:-1]  # ends in the middle of the last three-byte character
    assert detect_encoding(sample) == "utf-8"


def test_invalid_utf8_is_not_detected_as_utf8() -> None:
    assert detect_encoding(b"caf\xe9 cr\xe8me br\xfbl\xe9e et na\xefvet\xe9\n" * 5) != "utf-8"


def test_gb18030_chinese_is_detected_and_round_trips() -> None:
    data = CHINESE.encode("gb18030")
    assert len(data) >= 300
    assert not _is_utf8(data)

    detected = detect_encoding(data)
    assert detected in GB_FAMILY

    lines = list(decode_lines(data))
    assert texts(lines) == CHINESE.splitlines()
    assert all(line.error is None for line in lines)
    assert {normalize_codec_name(line.encoding) for line in lines} <= GB_FAMILY


def test_gbk_chinese_decodes_exactly_with_auto_detection() -> None:
    data = CHINESE.encode("gbk")
    assert detect_encoding(data) in GB_FAMILY
    assert "\n".join(texts(list(decode_lines(data)))) + "\n" == CHINESE


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def test_codec_names_and_wide_encodings() -> None:
    assert normalize_codec_name("GBK") == "gbk"
    assert normalize_codec_name("latin1") == "iso8859-1"
    assert is_wide_encoding("UTF-16LE")
    assert is_wide_encoding("utf_32")
    assert not is_wide_encoding("utf-8")
    assert not is_wide_encoding("gb18030")


# --------------------------------------------------------------------------------------------
# Line splitting


@pytest.mark.parametrize(("encoding", "ellipsis"), [("cp1252", "…"), ("latin-1", "\x85")])
def test_byte_0x85_does_not_split_a_line(encoding: str, ellipsis: str) -> None:
    data = b"so good\x85 really\nsecond line\n"
    lines = list(decode_lines(data, encoding))
    assert texts(lines) == [f"so good{ellipsis} really", "second line"]
    assert [line.line_no for line in lines] == [1, 2]


@pytest.mark.parametrize(("encoding", "ellipsis"), [("cp1252", "…"), ("latin-1", "\x85")])
def test_real_mr_polarity_lines_keep_their_nel_byte(encoding: str, ellipsis: str) -> None:
    raw = (corpora_dir() / "mr_rt_polarity" / "rt-polarity.pos").read_bytes()
    physical = raw.split(b"\n")
    with_85 = [line for line in physical if b"\x85" in line][:3]
    chosen = with_85 or [next(line for line in physical if any(b >= 0x80 for b in line))]
    data = b"\n".join(chosen) + b"\n"

    lines = list(decode_lines(data, encoding))
    assert len(lines) == len(chosen)
    assert [line.raw for line in lines] == chosen
    assert all(line.text is not None and line.error is None for line in lines)
    if with_85:
        assert all(ellipsis in line.text for line in lines)
        # str.splitlines would have cut each of these lines at U+0085 under latin-1.
        if encoding == "latin-1":
            assert sum(len(line.text.splitlines()) for line in lines) > len(lines)


def test_crlf_lines_lose_their_carriage_return() -> None:
    lines = list(decode_lines(b"one\r\ntwo\r\nthree", "utf-8"))
    assert texts(lines) == ["one", "two", "three"]
    assert all(b"\r" not in line.raw for line in lines)


def test_crlf_in_utf16_loses_its_carriage_return() -> None:
    data = codecs.BOM_UTF16_LE + "one\r\ntwo\r\n".encode("utf-16-le")
    assert texts(list(decode_lines(data))) == ["one", "two"]


def test_trailing_newline_is_not_an_extra_line() -> None:
    assert texts(list(decode_lines(b"a\nb\n", "utf-8"))) == ["a", "b"]
    assert texts(list(decode_lines(b"a\nb", "utf-8"))) == ["a", "b"]
    # A genuinely empty line in the middle or a second trailing newline is kept.
    assert texts(list(decode_lines(b"a\n\nb\n\n", "utf-8"))) == ["a", "", "b", ""]


def test_empty_input_has_no_lines() -> None:
    assert list(decode_lines(b"", "utf-8")) == []
    assert list(decode_lines(codecs.BOM_UTF8)) == []


# --------------------------------------------------------------------------------------------
# Undecodable lines


def test_undecodable_line_is_reported_and_later_lines_continue() -> None:
    data = b"first\nbad \xff\xfe here\nthird\n"
    lines = list(decode_lines(data, "utf-8"))
    assert [line.line_no for line in lines] == [1, 2, 3]
    assert texts(lines) == ["first", None, "third"]
    bad = lines[1]
    assert bad.encoding is None
    assert bad.raw == b"bad \xff\xfe here"
    assert bad.error is not None
    assert "utf-8" in bad.error and "byte 4" in bad.error
    assert lines[0].error is None and lines[2].error is None


def test_fallback_encoding_rescues_a_line() -> None:
    data = b"plain\ncaf\xe9 cr\xe8me\n"
    lines = list(decode_lines(data, "utf-8", fallback="cp1252"))
    assert texts(lines) == ["plain", "café crème"]
    assert lines[0].encoding == "utf-8"
    assert lines[1].encoding == "cp1252"
    assert lines[1].error is None


def test_failed_fallback_names_both_codecs() -> None:
    # 0x81 is one of the five byte values Windows-1252 leaves undefined.
    lines = list(decode_lines(b"x\x81y\n", "utf-8", fallback="cp1252"))
    assert lines[0].text is None
    assert "utf-8" in lines[0].error and "cp1252" in lines[0].error


def test_utf16_damaged_code_unit_marks_only_that_line() -> None:
    lone_surrogate = b"\x00\xd8"  # a high surrogate with no low surrogate after it
    data = (
        codecs.BOM_UTF16_LE
        + "good\n".encode("utf-16-le")
        + "broken ".encode("utf-16-le")
        + lone_surrogate
        + "x\n".encode("utf-16-le")
        + "after\n".encode("utf-16-le")
    )
    lines = list(decode_lines(data))
    assert [line.line_no for line in lines] == [1, 2, 3]
    assert texts(lines) == ["good", None, "after"]
    assert lines[1].error is not None and "utf-16" in lines[1].error
    assert lines[0].error is None and lines[2].error is None


def test_utf16_damage_does_not_flag_a_line_with_a_genuine_replacement_char() -> None:
    data = "legit \ufffd char\n".encode("utf-16-le") + b"\x00\xd8" + "x\n".encode("utf-16-le")
    lines = list(decode_lines(data, "utf-16-le"))
    assert texts(lines) == ["legit \ufffd char", None]


def test_utf16_damaged_line_keeps_its_original_bytes() -> None:
    damaged = "ab".encode("utf-16-le") + b"\x00\xd8" + "c".encode("utf-16-le")
    data = "ok\n".encode("utf-16-le") + damaged + "\n".encode("utf-16-le")
    lines = list(decode_lines(data, "utf-16-le"))
    assert lines[1].text is None
    assert lines[1].raw == damaged


# --------------------------------------------------------------------------------------------
# Quarantine payload


def test_printable_payload_escapes_bytes_and_keeps_utf8() -> None:
    assert printable_payload(b"ok \xff\xfe end", 100) == "ok \\xff\\xfe end"
    assert printable_payload("中文 ok".encode(), 100) == "中文 ok"
    mixed = printable_payload("é".encode() + b"\x85", 100)
    assert mixed == "é\\x85"
    assert mixed.isprintable()


def test_printable_payload_is_cut_to_limit() -> None:
    payload = printable_payload(b"\xff" * 50, 10)
    assert len(payload) == 10
    assert payload == "\\xff\\xff\\x"
