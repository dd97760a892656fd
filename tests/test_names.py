"""Name normalisation: Chinese romanisations, orders, English names, hyphenation and typos."""

from __future__ import annotations

import pytest

from moneytrail.resolve.explain import explain_pair
from moneytrail.resolve.lexicon import default_lexicon
from moneytrail.resolve.names import name_features, romanisations, same_name, split_syllables

VARIANTS_OF_CHEN_GUOQIANG = [
    ("Chen Guoqiang", None),
    ("Guoqiang Chen", None),
    ("CHEN, GUOQIANG", None),
    ("Chan Kwok Keung", None),
    ("Kwok Keung Chan", None),
    ("Chan Kwok-Keung", None),
    ("Chan Kwokkeung", None),
    (None, "陈国强"),
    ("陈国强", "陈国强"),
]


@pytest.mark.parametrize(("name", "native"), VARIANTS_OF_CHEN_GUOQIANG)
def test_romanisations_and_orders_share_a_key(name, native):
    reference = name_features(None, "陈国强")
    assert same_name(name_features(name, native), reference)


def test_the_lexicon_romanises_characters_both_ways():
    assert romanisations("陈国强") == {"pinyin": "chen guo qiang", "cantonese": "chan kwok keung"}


def test_cantonese_tokens_read_as_every_matching_character():
    lex = default_lexicon()
    assert {"wang", "huang"} <= set(lex.readings("wong"))
    huang = name_features("Huang Jiaming", None)
    wong = name_features("Wong Ka Ming", None)
    wang = name_features("Wang Jiaming", None)
    assert same_name(huang, wong) and same_name(wang, wong)
    assert not same_name(huang, wang)  # readings do not chain into one another


def test_adopted_english_name_is_recognised_beside_a_chinese_name():
    kenny = name_features("Kenny Chan", None)
    assert kenny.english_name == "kenny"
    assert kenny.name_core == ["chen"]
    full = name_features("Kenny Chan Kwok Keung", None)
    assert set(full.core_keys) & set(name_features("Chen Guoqiang", None).name_keys)
    # an English given name in a Western name is just a given name
    assert name_features("John Smith", None).english_name is None


def test_run_together_syllables_split_but_western_names_stay_whole():
    assert split_syllables("guoqiang") == ["guo", "qiang"]
    assert split_syllables("kwokkeung") == ["kwok", "keung"]
    for word in ("angela", "maria", "garcia", "mitchell", "golden"):
        assert split_syllables(word) == [word]


def test_typos_and_different_people_do_not_share_a_key():
    assert not same_name(name_features("Chen Guoqaing", None), name_features("Chen Guoqiang", None))
    assert not same_name(name_features("Li Wei", None), name_features("Li Wen", None))


def test_explanation_names_the_romanisation_and_the_fields():
    a = name_features("Chan Kwok Keung", None).as_dict()
    b = name_features("Chen Guoqiang", "陈国强").as_dict()
    pair = {f"{k}_l": v for k, v in a.items()} | {f"{k}_r": v for k, v in b.items()}
    pair |= {
        "name_native_l": None,
        "name_native_r": "陈国强",
        "dob_l": "1965-01-15",
        "dob_r": "1965-01-15",
        "phone_l": "6045550101",
        "phone_r": "6045550199",
    }
    text = explain_pair(pair)
    assert text == "name (Cantonese romanisation of 陈国强) and birth date agreed; phone differed"
