"""Generic evidence of personal names: the gazetteer, roles before a name, possessives, lists."""

from clippings.importer.extract import Meta
from clippings.importer.names import load_gazetteer


def _people(extractor, text):
    return extractor.extract(text, Meta(publication="Example Wire")).people


def test_gazetteer_knows_given_names_and_surnames():
    gazetteer = load_gazetteer()
    assert gazetteer.is_person_name(["Scott", "Draper"])
    assert gazetteer.is_person_name(["SCOTT", "DRAPER"])
    assert not gazetteer.is_person_name(["Popular", "Instagram"])
    assert not gazetteer.is_person_name(["Draper"])


def test_possessive_ends_a_name(extractor):
    text = "A Video\n\nChechen leader Ramzan Kadyrov’s Instagram showed the video on Monday.\n"
    assert _people(extractor, text) == ["Ramzan Kadyrov"]


def test_role_before_a_name_is_stripped(extractor):
    text = (
        "A Goal\n\nThe coach praised the team after the match.\n\n"
        "Midfielder Hassan Abbas scored twice against the visitors on Saturday.\n"
    )
    assert _people(extractor, text) == ["Hassan Abbas"]


def test_names_in_a_results_list_the_recogniser_missed(extractor):
    text = (
        "Henman Through\n\nTim Henman reached the third round of the tournament on Friday, "
        "where he meets the winner of a late match between two qualifiers.\n\n"
        "Results from the tournament on Friday, in the order of play:\n\n"
        "Tim Henman (Britain) beat Doug Flach (U.S.) 6-3 6-4 6-2\n\n"
        "Guy Forget (France) beat Felix Mantilla (Spain) 6-4 7-5 6-3\n\n"
        "Alexander Volkov (Russia) beat Mikael Tillstrom (Sweden) 1-6 6-4 6-1\n\n"
        "Pete Sampras (U.S.) beat Jonas Bjorkman (Sweden) 6-4 6-1 6-1\n\n"
        "Play resumes on Saturday with the remaining matches of the second round.\n"
    )
    people = _people(extractor, text)
    assert {"Guy Forget", "Pete Sampras", "Tim Henman"} <= set(people)
    assert not {"Britain", "Sweden"} & set(people)


def test_place_names_the_gazetteer_could_read_as_names_are_not_people(extractor):
    text = (
        "Warships\n\nTwo warships sailed through the Mediterranean Sea on Tuesday, marking the "
        "Great Patriotic War anniversary, the ministry said.\n"
    )
    assert _people(extractor, text) == []
