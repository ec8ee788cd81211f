from clippings.importer.extract import Meta, caption_text
from clippings.importer.rules import load_rules


def _extract(extractor, text, **meta):
    return extractor.extract(text, Meta(**meta))


def test_surname_resolves_and_authority_canonicalises(extractor):
    text = (
        "Leaders Meet\n\nNorth Korean leader Kim Jong-un met Vladimir Putin in Vladivostok.\n\n"
        "Putin said the talks went well, and Kim agreed.\n"
    )
    found = _extract(extractor, text)
    assert found.people == ["Kim Jong Un", "Vladimir Putin"]


def test_countries_from_names_demonyms_and_metonyms(extractor):
    text = (
        "Talks Continue\n\nThe Kremlin said the DPRK and the White House were talking.\n\n"
        "Beijing accused Tokyo of anti-Japanese slander, said a Turkish official.\n"
    )
    found = _extract(extractor, text)
    assert found.countries == ["Russia", "North Korea", "United States", "China", "Japan", "Turkey"]


def test_places_regions_and_datelines_are_not_countries(extractor):
    text = (
        "A Parade\n\nMOSCOW (AFP) - A parade in Moscow marked the liberation of Korea.\n\n"
        "Troops from Crimea marched across Europe and the Korean Peninsula in Sochi.\n"
    )
    found = _extract(extractor, text)
    assert found.countries == []
    assert found.sources == ["AFP"]


def test_authors_and_photographers_are_not_people(extractor):
    text = (
        "Missile Deployed\n\n"
        "President Vladimir Putin attends a meeting, August 9, 2016.Sergei Karpukhin\n\n"
        "The missile system was deployed, Russian news agencies reported on Friday.\n\n"
        "Reporting by Polina Devitt; Writing by Maria Tsvetkova; Editing by Andrew Osborn\n"
    )
    found = _extract(extractor, text, publication="Reuters")
    assert found.authors == ["Polina Devitt", "Maria Tsvetkova"]
    assert found.people == ["Vladimir Putin"]
    assert "Sputnik" not in found.sources


def test_publisher_own_tag_is_not_a_source_but_cited_agencies_are(extractor):
    text = (
        "Greetings Sent\n\n"
        "Pyongyang, October 7 (KCNA) -- Kim Jong Un sent greetings, TASS said.\n\n"
        "The message was also quoted by the Yonhap news agency and the Kyodo News agency.\n"
    )
    found = _extract(extractor, text, url="http://kcna.kp/en/article/1.kcmsf")
    assert found.sources == ["TASS", "Yonhap", "Kyodo"]


def test_ships_and_title_only_references_are_not_people(extractor):
    text = (
        "Ships Sail\n\n"
        "The aircraft carrier Admiral Kuznetsov sailed past, the Russian president said.\n\n"
        "His father had seen it before, a former Russian spy said.\n"
    )
    assert _extract(extractor, text).people == []


def test_caption_credits_are_removed_from_caption_text(tmp_path):
    rules = load_rules()
    assert (
        caption_text("Kim inspects a farm. The agency... KCNA/Reuters", rules)
        == "Kim inspects a farm. The agency..."
    )
    assert caption_text("Reuters | Robert Galbraith | File Photo", rules) == ""
    jet = "A jet. (U.S. Air Force photo by Justin Connaher/DVIDSHUB)"
    assert caption_text(jet, rules) == "A jet."
    # A site teaches the importer its own photo credit in data/boilerplate.yaml.
    site_rules = tmp_path / "boilerplate.yaml"
    site_rules.write_text("caption_credits:\n  - '\\s+Image: Daily Example$'\n")
    shot = "Kim waves from the podium. Image: Daily Example"
    assert caption_text(shot, load_rules(site_rules)) == "Kim waves from the podium."


def test_other_outlets_bylines_and_names_after_titles(extractor):
    text = (
        "World news\n\nFinland Joins the Alliance, Says Putin\n\nBy VLADIMIR ISACHENKOV\n\n"
        "MOSCOW (AP) — Finnish President Sauli Niinistö said the move was directed at no one.\n\n"
        "U.S. Secretary of State Antony Blinken welcomed Finland's accession, said RIA.\n\n"
        "Associated Press writer Jari Tanner in Helsinki contributed to this report.\n"
    )
    found = _extract(extractor, text, publication="Associated Press")
    assert found.title == "Finland Joins the Alliance, Says Putin"
    assert found.authors == ["Vladimir Isachenkov", "Jari Tanner"]
    assert found.people == ["Sauli Niinistö", "Antony Blinken", "Vladimir Putin"]
    assert found.sources == ["RIA Novosti"]


def test_byline_forms_of_other_outlets(extractor):
    text = (
        "Missile Test Draws Protest From Neighbours\n\nBy HYUNG-JIN KIM Associated Press\n\n"
        "SEOUL, South Korea -- North Korea said it had test-fired a new weapon on Thursday.\n\n"
        "Fox News' Greg Palkot and The Associated Press contributed to this report.\n\n"
        "— With assistance from Alexander Sazonov\n"
    )
    found = _extract(extractor, text, publication="Example News")
    assert found.authors == ["Hyung-Jin Kim", "Greg Palkot", "Alexander Sazonov"]
    assert found.sources == ["Associated Press", "Fox News"]
    assert found.people == []


def test_people_data_spellings_metonyms_and_outlets_are_not_people(extractor):
    text = (
        "Leaders Trade Warnings Over Drones\n\n"
        "President Volodymyr Zelensky said Russia used Iranian drones, Ukrainska Pravda reported.\n\n"
        "Zelensky spoke after Theresa May's call. Cheong Wa Dae and Novaya Gazeta said nothing.\n\n"
        "Children wore shirts with Mickey Mouse, The Hollywood Reporter said.\n"
    )
    found = _extract(extractor, text)
    assert found.people == ["Volodymyr Zelenskyy", "Theresa May"]
    assert found.countries == ["Russia", "Iran", "South Korea"]
    assert found.sources == ["Ukrainska Pravda", "Novaya Gazeta", "The Hollywood Reporter"]


def test_known_people_found_deep_in_a_long_text_and_hyphenated_names_kept_whole(extractor):
    filler = "The committee met for many hours and discussed the budget at length. " * 5
    text = (
        f"Statement Issued\n\n{filler}\n\n"
        '"Theresa May\'s statements are a provocation," Zakharova told the Izvestia daily.\n\n'
        "South Korean President Moon Jae-in ordered a drill in response.\n"
    )
    found = _extract(extractor, text)
    assert "Theresa May" in found.people
    assert "Moon Jae-in" in found.people
    assert "Moon Jae" not in found.people


def test_untagged_names_after_titles_and_in_lists_but_not_institutions(extractor):
    text = (
        "Officials Meet in Manila\n\n"
        "MANILA (AP) — The visit went ahead as planned, officials said on Tuesday.\n\n"
        "Presidential Spokesperson Ernesto Abella said the visit went ahead as planned.\n\n"
        "India's national security adviser Ajit Doval also attended the meeting.\n\n"
        "The four men, identified as Ri Ji Hyon, Hong Song Hac and Ri Jae Nam, left.\n\n"
        "The Foreign Minister talks ended on Friday without a statement.\n\n"
        "Protesters gathered outside President Trump Tower in the evening.\n\n"
        "The figures came from the Defense Ministry Press Service on Monday.\n\n"
        "Doctors said the Sputnik V vaccine was safe, the tug Yany Kapu was seized.\n"
    )
    found = _extract(extractor, text)
    assert found.people == [
        "Ernesto Abella",
        "Ajit Doval",
        "Ri Ji Hyon",
        "Hong Song Hac",
        "Ri Jae Nam",
    ]
    assert "Sputnik" not in found.sources


def test_name_words_with_particles_and_accents_and_the_publishers_own_tag(extractor):
    text = (
        "Ministers Meet\n\n"
        "SEOUL, Aug. 13 (Korea Bizwire) — Science Secretary Fortunato de la Peña met Defence "
        "Minister Karla Šlechtová and Vietnamese Doan Thi Huong's lawyer.\n"
    )
    found = _extract(extractor, text, publication="The Korea Bizwire")
    assert found.people == ["Fortunato de la Peña", "Karla Šlechtová", "Doan Thi Huong"]


def test_no_name_after_a_title_word_that_often_precedes_an_outlet(extractor):
    text = (
        "Poland Votes\n\n"
        "WARSAW (AP) — Voters went to the polls on Sunday, officials said in the capital.\n\n"
        "Turnout was high, the state Polskie Radio said.\n\n"
        "The party leader spoke to the press, and the Foreign Minister talks ended.\n"
    )
    assert _extract(extractor, text).people == []
