from clippings.importer.extract import Meta
from clippings.importer.rules import load_rules
from clippings.importer.segment import segment, split_fused_title
from tests.importer.conftest import REPO

RULES = load_rules()


def test_status_prefix_leaves_title_and_first_body_line():
    seg = segment(
        "Breaking: Big News Today\n\nUpdated | The first paragraph says a thing.\n", RULES
    )
    assert seg.title == "Big News Today"
    assert seg.body == ["The first paragraph says a thing."]


def test_chrome_before_title_and_footer_are_boilerplate():
    text = (
        "Back To Top\n\nMarch 3, 2019\n\nA Headline About Things\n\n"
        "The article starts here with a long enough sentence.\n\nShort subhead\n\n"
        "It ends here with another sentence of the story.\n\n"
        "Related: Some other story you might like\n\nMOST POPULAR\nsubscribe\n"
    )
    seg = segment(text, RULES)
    assert seg.title == "A Headline About Things"
    assert seg.body == [
        "The article starts here with a long enough sentence.",
        "Short subhead",
        "It ends here with another sentence of the story.",
    ]
    assert seg.boilerplate == [
        "Back To Top",
        "March 3, 2019",
        "Related: Some other story you might like",
        "MOST POPULAR",
        "subscribe",
    ]


def test_dek_byline_repeated_title_and_caption():
    text = (
        "Jets Intercept Bombers\n\n"
        "The bombers flew close to the coast before being escorted away\n\n"
        "Jets Intercept Bombers\n\n"
        "A jet takes off, March 1, 2016. (Air Force photo by Jo Bloggs)\n\n"
        "By Associated Press\n\nWASHINGTON — The military says it intercepted two bombers.\n\n"
        "The bombers then flew back home after twelve minutes.\n"
    )
    seg = segment(text, RULES)
    assert seg.dek == "The bombers flew close to the coast before being escorted away"
    assert seg.credits == ["By Associated Press"]
    assert seg.captions == ["A jet takes off, March 1, 2016. (Air Force photo by Jo Bloggs)"]
    assert seg.caption_places == [0]  # above the first paragraph
    assert seg.body[0].startswith("WASHINGTON")
    assert "Jets Intercept Bombers" not in seg.boilerplate + seg.body


def test_image_slug_line_introduces_a_caption():
    text = (
        "Title Here\n\nFirst paragraph of the story is right here.\n\n"
        "08_15_Kim\nA leader waves.\n\nLast paragraph of the story is right here.\n"
    )
    seg = segment(text, RULES)
    assert seg.captions == ["A leader waves."]
    assert seg.caption_places == [1]  # where it stood: after the first paragraph
    assert seg.boilerplate == ["08_15_Kim"]


def test_fused_title_and_dek_are_split_where_the_dek_repeats_in_the_body():
    later = (
        "LinkedIn, which has its headquarters in the United States, is the first network blocked."
    )
    title, dek = split_fused_title(
        "Russia Bans LinkedIn After Court Ruling LinkedIn, which has its headquarters in the "
        "United States, is the first network blocked.",
        later,
    )
    assert title == "Russia Bans LinkedIn After Court Ruling"
    assert dek.startswith("LinkedIn, which")


def test_quoted_title_case_headline_is_not_split():
    line = "Kim Jong Un Wishes Putin Good Luck in 'Building a Powerful Russia'"
    assert split_fused_title(line, "") == (line, None)


def test_site_rules_extend_the_defaults_per_publication(tmp_path):
    site = tmp_path / "boilerplate.yaml"
    site.write_text("publications:\n  Example Times:\n    lines: ['Sign up now.*']\n")
    text = (
        "A Title\n\nThe article body is a sentence that is long enough.\n\nSign up now for news!\n"
    )
    assert "Sign up now for news!" in segment(text, load_rules(site, "Example Times")).boilerplate
    assert "Sign up now for news!" not in segment(text, load_rules(site, "Other")).boilerplate


def test_headline_found_below_navigation_and_chrome_around_the_body_dropped():
    text = (
        "Skip to content\nHome\nAsia Pacific\nIndependent News From Russia\n\n"
        "Kremlin Says West Is Waging Economic War\n\n"
        "Moscow vows retaliation as new sanctions hit Russian banks\n\nJane Smith\n\n"
        "Published\n3 hours ago\nShare\n\n"
        "MOSCOW (AP) — The Kremlin accused Western countries of waging an economic war on Russia.\n\n"
        "Advertisement\n\n"
        "Officials said the measures would be felt across Europe within weeks, not months.\n\n"
        "Related Topics\nRussia\nSanctions tighten on the Russian central bank, officials say\n\n"
        "Support us\nDear readers! Thank you for being with us!\n"
    )
    seg = segment(text, RULES, url="https://example.com/2022/03/20/kremlin-west-economic-war")
    assert seg.title == "Kremlin Says West Is Waging Economic War"
    assert seg.dek == "Moscow vows retaliation as new sanctions hit Russian banks"
    assert seg.credits == ["Jane Smith"]
    assert seg.body == [
        "MOSCOW (AP) — The Kremlin accused Western countries of waging an economic war on Russia.",
        "Officials said the measures would be felt across Europe within weeks, not months.",
    ]
    assert "Dear readers! Thank you for being with us!" in seg.boilerplate


def test_footer_words_in_the_menu_do_not_end_the_article():
    text = (
        "Related\nTopics\n\nA Headline About The Summit Today\n\n"
        "The leaders met on Monday and agreed to hold further talks next month in the capital.\n"
    )
    seg = segment(text, RULES)
    assert seg.body == [
        "The leaders met on Monday and agreed to hold further talks next month in the capital."
    ]


def test_lead_photo_after_standfirst_and_lone_dateline():
    text = (
        "Leaders Meet For Talks In The Capital\n\n"
        "The two leaders held talks for the first time in a year. A deal is not expected.\n\n"
        "Image caption, The leaders shake hands\n\nANKARA\n"
        "President Recep Tayyip Erdogan met his counterpart on Wednesday to discuss the war.\n"
    )
    seg = segment(text, RULES)
    assert seg.dek.startswith("The two leaders")
    assert seg.captions == ["Image caption, The leaders shake hands"]
    assert seg.body[0] == "ANKARA"


def test_related_box_inside_the_article_is_chrome_and_the_article_goes_on():
    text = (
        "Kremlin Rejects Claims Over Poisoning\n\n"
        "The Kremlin on Monday rejected claims that it was behind the poisoning of the dissident.\n\n"
        "Related\nRussia expels diplomats in tit-for-tat move\n\n"
        "Short answer from the ministry.\n\n"
        "Officials in Moscow said they had seen no evidence and accused Western governments of "
        "staging a campaign to damage the country's reputation ahead of the summit.\n\n"
        "Most Read\nPutin signs new law on foreign agents\n"
    )
    seg = segment(text, RULES)
    assert seg.body == [
        "The Kremlin on Monday rejected claims that it was behind the poisoning of the dissident.",
        "Short answer from the ministry.",
        seg.body[-1],
    ]
    assert seg.body[-1].startswith("Officials in Moscow")
    assert "Russia expels diplomats in tit-for-tat move" in seg.boilerplate
    assert seg.boilerplate[-1] == "Putin signs new law on foreign agents"


def test_text_opening_with_a_dateline_sentence_keeps_it_whole():
    first = (
        "MOSCOW: Russian Foreign Minister Sergei Lavrov said on Monday that talks with "
        "Washington had stalled, and that Moscow would respond to new sanctions."
    )
    seg = segment(f"{first}\n\nHe spoke after meeting his counterpart in the capital.\n", RULES)
    assert seg.title is None and seg.dek is None
    assert seg.body[0] == first


def test_derived_title_from_the_url_or_the_first_words(extractor):
    text = (
        "MOSCOW: Russian Foreign Minister Sergei Lavrov said on Monday that talks with "
        "Washington had stalled.\n\nHe spoke after meeting his counterpart in the capital.\n"
    )
    found = extractor.extract(text, Meta(url="https://example.com/news/lavrov-says-talks-stalled"))
    assert (found.title, found.title_source) == ("Lavrov says talks stalled", "derived")
    found = extractor.extract(text, Meta())
    assert found.title == "MOSCOW: Russian Foreign Minister Sergei Lavrov said on Monday that…"
    assert found.body[0].startswith("MOSCOW: Russian Foreign Minister")
    headlined = extractor.extract("A Headline About Talks\n\n" + text, Meta())
    assert headlined.title_source is None


RESULTS_STORY = (
    "Romania Beat Lithuania In Under-21 Match\n\n"
    "Romania beat Lithuania 2-1 (halftime 1-1) in their European under-21 soccer match on "
    "Friday, a win that keeps them top of their qualifying group.\n\n"
    "The visitors took the lead early but could not hold on after the break.\n\n"
)


def test_results_after_the_last_sentence_stay_in_the_body():
    """Nothing lost: a results table or list after the article's last sentence is article text,
    whatever the outlet; a sign-off after it is not."""
    results = [
        "Scorers:",
        "Romania - Cosmin Contra (31st), Mihai Tararache (75th)",
        "Lithuania - Danius Gleveckas (13th)",
        "Attendance: 200",
    ]
    text = RESULTS_STORY + "\n\n".join(results) + "\n\n-- Bucharest Newsroom 40-1 3120264\n"
    seg = segment(text, RULES)
    assert seg.body[-4:] == results
    assert "-- Bucharest Newsroom 40-1 3120264" not in seg.body


def test_a_table_of_times_after_the_article_is_body():
    rows = [
        "1. Antonella Bellutti (Italy) 3:31.526 (world record)",
        "2. Marion Clignet (France) 3:31.674",
        "3. Lucy Tyler-Sharman (Australia) 3:31.830",
    ]
    seg = segment(RESULTS_STORY + "\n".join(rows) + "\nAdvertisement\n", RULES)
    assert seg.body[-3:] == rows and "Advertisement" in seg.boilerplate


def test_a_counter_or_a_stamp_after_the_article_is_not_a_result():
    text = RESULTS_STORY + "Published in Dawn, September 24th, 2016\n\nComments (41) Closed\n"
    seg = segment(text, RULES)
    assert seg.body[-1] == "The visitors took the lead early but could not hold on after the break."
    assert "Comments (41) Closed" in seg.boilerplate


HEADLINE = "Kim Meets Putin In Vladivostok"
STANDFIRST = (
    "North Korea's leader travelled by armoured train to his first summit with the Russian "
    "president"
)
ARTICLE = [
    "North Korean leader Kim Jong Un met Russian President Vladimir Putin on Thursday for their "
    "first summit in the Pacific port city, the Kremlin said.",
    "The two leaders discussed the nuclear standoff with the United States and economic ties.",
]


def test_a_standfirst_after_a_headline_also_in_the_navigation_is_the_dek():
    """The headline is first met in a menu or a list of teasers; the standfirst follows its
    last copy, the one above the article."""
    pages = [
        ["Most Read", HEADLINE, "Trump Lands In Hanoi For Summit", "Moon Urges Talks With Seoul"],
        ["World", "Asia", HEADLINE, "Europe"],
    ]
    for navigation in pages:
        seg = segment("\n".join([*navigation, HEADLINE, STANDFIRST, *ARTICLE]) + "\n", RULES)
        assert (seg.title, seg.dek, seg.body) == (HEADLINE, STANDFIRST, ARTICLE)
        assert set(navigation) - {HEADLINE} <= set(seg.boilerplate + seg.credits)


def test_a_dek_between_two_copies_of_the_headline_stays_the_dek():
    seg = segment("\n".join([HEADLINE, STANDFIRST, HEADLINE, *ARTICLE]) + "\n", RULES)
    assert (seg.title, seg.dek, seg.body) == (HEADLINE, STANDFIRST, ARTICLE)


def test_the_rules_match_a_line_as_any_one_of_them_does(tmp_path):
    """Each kind's whole-line rules are tried as one alternation, which must match where any
    rule does; rules whose meaning an alternation would change are tried one by one."""
    lines = {
        line.strip()
        for path in sorted((REPO / "tests" / "importer" / "holdout").glob("*.txt"))
        for line in path.read_text(encoding="utf-8").splitlines()
    }
    for kind in ("lines", "footer_start", "credits", "captions"):
        assert RULES._whole_line[kind] is not None
        for line in lines:
            expected = any(pattern.fullmatch(line) for pattern in getattr(RULES, kind))
            assert RULES.matches(kind, line) == expected, (kind, line)
    site = tmp_path / "boilerplate.yaml"
    site.write_text("lines:\n  - '(\\w+)-\\1'\n", encoding="utf-8")  # "ab-ab", not "ab-cd"
    rules = load_rules(site)
    assert rules._whole_line["lines"] is None
    assert rules.matches("lines", "ab-ab") and not rules.matches("lines", "ab-cd")
