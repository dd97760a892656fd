"""The name lexicon shared by the simulator and entity resolution."""

from __future__ import annotations

from pypinyin import Style, pinyin

from moneytrail.names import load


def test_lexicon_size_and_known_readings():
    lex = load()
    assert len(lex.surnames) >= 100 and len(lex.given) >= 200
    assert lex.surname("陈").pinyin == "chen" and lex.surname("陈").cantonese[0] == "chan"
    assert lex.surname("张").cantonese[0] == "cheung"
    assert lex.surname("王").cantonese[0] == "wong" == lex.surname("黄").cantonese[0]
    given = {g.character: g for g in lex.given}
    assert given["国"].cantonese[0] == "kwok" and given["强"].cantonese[0] == "keung"
    assert len(lex.english_given) >= 100 and len(lex.other_surnames) >= 50
    assert len({s.character for s in lex.surnames}) == len(lex.surnames)


def test_pinyin_column_agrees_with_pypinyin():
    lex = load()
    for ch in (*lex.surnames, *lex.given):
        readings = {r.replace("ü", "v") for r in pinyin(ch.character, style=Style.NORMAL, heteronym=True)[0]}
        assert ch.pinyin.replace("lyu", "lv") in readings, ch
