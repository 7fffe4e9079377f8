"""Risk checks: each reason code catches what it should, spares what it should, and points exactly."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from beat import risk
from beat.risk import (
    RiskHit,
    check_alt_text,
    check_dates_of_birth,
    check_email_addresses,
    check_live_proceedings,
    check_named_suspects,
    check_phone_numbers,
    check_post,
    check_postcodes,
    check_profanity,
    check_sentence_comments,
    check_sexual_offence_victims,
    check_vehicle_registrations,
)

POSTS = Path(__file__).resolve().parent.parent / "data" / "posts"


def load(name: str) -> list[dict]:
    lines = (POSTS / name).read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def post_id(post: dict) -> str:
    return post["text"][:60]


def run(post: dict) -> list[RiskHit]:
    return check_post(
        post["text"], text_cy=post.get("text_cy"), photos_alt=post.get("photos_alt", ())
    )


def matched(hits: list[RiskHit]) -> list[str]:
    return [hit.matched for hit in hits]


def assert_exact_spans(hits: list[RiskHit], post: dict) -> None:
    for hit in hits:
        if hit.field == "text":
            source = post["text"]
        elif hit.field == "text_cy":
            source = post["text_cy"]
        else:
            index = int(hit.field.removeprefix("photos[").removesuffix("].alt"))
            source = post["photos_alt"][index] or ""
        assert source[hit.start : hit.end] == hit.matched, hit
        assert hit.code in risk.CODES
        assert hit.explanation.strip()


# ---- the synthetic posts ------------------------------------------------------------------------


@pytest.mark.parametrize("post", load("clean.jsonl"), ids=post_id)
def test_clean_post_passes_silently(post):
    assert post["expected"] == []
    assert run(post) == []


@pytest.mark.parametrize("post", load("risky.jsonl"), ids=post_id)
def test_risky_post_raises_at_least_its_expected_codes(post):
    hits = run(post)
    assert set(post["expected"]) <= {hit.code for hit in hits}, [(h.code, h.matched) for h in hits]
    assert_exact_spans(hits, post)


@pytest.mark.parametrize("post", load("hard.jsonl"), ids=post_id)
def test_hard_posts_are_checked_without_error_and_spans_stay_exact(post):
    # Known misses live here, so only the span contract is asserted, not the codes.
    assert_exact_spans(run(post), post)


def test_the_data_covers_every_code_several_times():
    expected = [code for post in load("risky.jsonl") for code in post["expected"]]
    for code in risk.CODES:
        assert expected.count(code) >= 5, code
    assert len(load("clean.jsonl")) >= 80
    assert len(load("risky.jsonl")) >= 80


# ---- RiskHit and check_post ---------------------------------------------------------------------


def test_a_hit_is_frozen_and_defaults_to_the_english_text():
    hit = RiskHit("profanity", 0, 4, "crap", "why")
    assert hit.field == "text"
    with pytest.raises(AttributeError):
        hit.code = "other"  # type: ignore[misc]


def test_welsh_hits_point_into_the_welsh_text():
    text_cy = "Ffoniwch 07700 900461 neu 101."
    hits = check_post("Call 101.", text_cy=text_cy)
    assert [(h.code, h.field, h.matched) for h in hits] == [
        ("phone-number", "text_cy", "07700 900461")
    ]
    assert text_cy[hits[0].start : hits[0].end] == "07700 900461"


def test_welsh_keywords_are_understood():
    hits = check_post("A man was arrested.", text_cy="Mae Gareth Evans wedi'i arestio heddiw.")
    assert [(h.code, h.field, h.matched) for h in hits] == [
        ("named-suspect", "text_cy", "Gareth Evans")
    ]


def test_each_photo_gets_its_own_field():
    hits = check_post("Bike marking.", photos_alt=["Officer marking a bike", None, "IMG_0042.JPG"])
    assert [(h.field, h.code) for h in hits] == [
        ("photos[1].alt", "missing-alt-text"),
        ("photos[2].alt", "missing-alt-text"),
    ]


def test_alt_text_is_checked_like_the_post_because_it_is_published_with_it():
    hits = check_post("Parking.", photos_alt=["A car, AB12 CDE, parked on the pavement"])
    assert [(h.field, h.code, h.matched) for h in hits] == [
        ("photos[0].alt", "vehicle-registration", "AB12 CDE")
    ]


def test_hits_in_one_field_come_in_text_order():
    text = "Call 07700 900461, e-mail a@gmail.com, car AB12 CDE."
    hits = check_post(text)
    assert [h.start for h in hits] == sorted(h.start for h in hits)
    assert [h.code for h in hits] == ["phone-number", "email-address", "vehicle-registration"]


def test_explanations_are_single_sentences_for_the_desk():
    text = (
        "Scumbag John Smith was charged. DOB 01/02/1990, of 12 Acacia Avenue, SW1A 1AA, car "
        "AB12 CDE, 07700 900461, js@gmail.com. Only got 6 months. A 14-year-old was raped."
    )
    hits = check_post(text, photos_alt=[""])
    assert {h.code for h in hits} == set(risk.CODES) - {"full-postcode"}
    for hit in hits:
        assert hit.explanation.count(". ") == 0, hit.explanation
        assert hit.explanation.endswith("."), hit.explanation


# ---- profanity ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("What the fuck was that", ["fuck"]),
        ("absolute f***ing chaos", ["f***ing"]),
        ("this sh*t is everywhere", ["sh*t"]),
        ("SHITE parking again", ["SHITE"]),
        ("some scumbags nicked it", ["scumbags"]),
        ("piss-heads again", ["piss"]),
        ("Bloody hell!", ["Bloody hell"]),
    ],
)
def test_profanity_is_found_with_exact_spans(text, words):
    hits = check_profanity(text)
    assert matched(hits) == words
    for hit in hits:
        assert text[hit.start : hit.end] == hit.matched
        assert hit.code == "profanity"


@pytest.mark.parametrize(
    "text",
    [
        "Thanks to colleagues from Scunthorpe and Penistone.",
        "We assessed the cockpit of the light aircraft.",
        "Arsenal fans, arsenic poisoning, Essex and Sussex.",
        "Shitterton, Twatt, Bitchfield, Crapstone and Cockermouth are all real places.",
        "A bloody knife was recovered.",
        "Penistone Road and Cockfosters station.",
    ],
)
def test_words_that_contain_swear_words_are_spared(text):
    assert check_profanity(text) == []


def test_slurs_are_explained_as_slurs():
    (hit,) = check_profanity("graffiti saying pakis out")
    assert "slur" in hit.explanation


# ---- phone numbers ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("ring 07700 900461 now", "07700 900461"),
        ("ring 07700900461 now", "07700900461"),
        ("ring 07700 900 461 now", "07700 900 461"),
        ("call 020 7946 0128.", "020 7946 0128"),
        ("call (020) 7946 0128", "(020) 7946 0128"),
        ("call +44 7700 900461", "+44 7700 900461"),
        ("call +44 (0)20 7946 0321", "+44 (0)20 7946 0321"),
        ("call 0044 7700 900461", "0044 7700 900461"),
        ("call 0113-496-0823", "0113-496-0823"),
        ("call 01632 960447", "01632 960447"),
        ("call 0800 555 0194", "0800 555 0194"),
        ("call 08 08 16 89 111", "08 08 16 89 111"),
    ],
)
def test_uk_phone_numbers_are_found_in_any_spacing(text, number):
    (hit,) = check_phone_numbers(text)
    assert hit.matched == number
    assert text[hit.start : hit.end] == number


@pytest.mark.parametrize(
    "text",
    [
        "Call 101, or 999 in an emergency, or 111 for the NHS.",
        "Crimestoppers: 0800 555 111, or 0800 555111, or 0800-555-111.",
        "Text BTP on 61016 or call 159 for your bank.",
        "Shifts 0700-1500 and 1500-2300, 20 mph, 01/02/2024, 10.30am.",
        "Reference 4600123456/24 and CAD 1234/12MAR.",
        "Numbers 01 02 03 04 05 06 07 were drawn.",
        "Population 0 0 0 0 0 0 0 0 0 0 0 0.",
    ],
)
def test_numbers_officers_may_quote_and_other_digits_are_not_phone_numbers(text):
    assert check_phone_numbers(text) == []


def test_crimestoppers_is_allowed_but_a_number_next_to_it_is_not():
    text = "Crimestoppers 0800 555 111 or our line 07700 900461"
    assert matched(check_phone_numbers(text)) == ["07700 900461"]


# ---- e-mail addresses ---------------------------------------------------------------------------


def test_private_email_addresses_are_flagged_with_exact_spans():
    text = "Send footage to dave.smith1983@gmail.com. Or j.bloggs@hotmail.co.uk!"
    hits = check_email_addresses(text)
    assert matched(hits) == ["dave.smith1983@gmail.com", "j.bloggs@hotmail.co.uk"]
    assert all(text[h.start : h.end] == h.matched for h in hits)


@pytest.mark.parametrize(
    "address",
    [
        "cityofldn.snt@cityoflondon.police.uk",
        "lostproperty@cityoflondon.pnn.police.uk",
        "Team.Inbox@SOUTH-WALES.POLICE.UK",
    ],
)
def test_force_addresses_are_allowed(address):
    assert check_email_addresses(f"E-mail {address} please.") == []


@pytest.mark.parametrize(
    "address",
    ["snt@cityoflondon-police.co.uk", "tips@police.uk.report-now.com", "x@fakepolice.uk"],
)
def test_look_alike_police_addresses_are_flagged(address):
    assert matched(check_email_addresses(f"E-mail {address} please.")) == [address]


def test_twitter_handles_are_not_email_addresses():
    assert check_email_addresses("Follow @CityPolice and @PoliceUK for updates.") == []


# ---- vehicle registrations ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "vrm"),
    [
        ("Ford Focus AB12 CDE seen", "AB12 CDE"),
        ("reg LB07SEO abandoned", "LB07SEO"),
        ("van YK68 HZT.", "YK68 HZT"),
        ("Transit H123 ABC stolen", "H123 ABC"),
        ("Mini ABC 123D stolen", "ABC 123D"),
    ],
)
def test_registration_marks_are_found(text, vrm):
    (hit,) = check_vehicle_registrations(text)
    assert hit.matched == vrm
    assert text[hit.start : hit.end] == vrm


@pytest.mark.parametrize(
    "text",
    [
        "Patrols on the A13 ASB hotspot and the M25 MET liaison.",
        "Postcodes SW1A 1AA, EC2V 7HH and W1A 1AA are not registrations.",
        "COVID19 tests, NHS 111, CCTV 24/7, PCSO 1234, PC 3402EA.",
        "AB00 CDE and AB45 CDE use age identifiers that were never issued.",
        "ab12 cde in lower case is prose, not a mark.",
    ],
)
def test_words_postcodes_and_road_numbers_are_not_registrations(text):
    assert check_vehicle_registrations(text) == []


# ---- postcodes ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "address"),
    [
        ("Burglary at 12 Acacia Avenue, SW1A 1AA today", "12 Acacia Avenue, SW1A 1AA"),
        ("Officers attended No. 4, EC2V 7HH.", "No. 4, EC2V 7HH"),
        ("Window smashed at 210 Bishopsgate, EC2M 4QD.", "210 Bishopsgate, EC2M 4QD"),
        ("Flat 3, Bunyan Court, EC2Y 8DH was hit", "Flat 3, Bunyan Court, EC2Y 8DH"),
        ("Damage at 12 Acacia Avenue, sw1a 1aa.", "12 Acacia Avenue, sw1a 1aa"),
        ("SW1A 1AA, number 10, was hit", "SW1A 1AA, number 10"),
    ],
)
def test_a_house_number_with_a_full_postcode_identifies_a_household(text, address):
    (hit,) = check_postcodes(text)
    assert (hit.code, hit.matched) == ("postcode-with-house-number", address)
    assert text[hit.start : hit.end] == address


def test_a_full_postcode_alone_is_a_lesser_code():
    (hit,) = check_postcodes("Surgery at the library, E1 7AF, on Friday.")
    assert (hit.code, hit.matched) == ("full-postcode", "E1 7AF")


def test_a_house_number_in_another_sentence_does_not_count():
    (hit,) = check_postcodes("We visited 12 Acacia Avenue today. Surgery at EC2V 7HH.")
    assert hit.code == "full-postcode"


@pytest.mark.parametrize(
    "text",
    ["Patrols across EC2 and EC3.", "The EC2V area is quiet.", "Meet at 3pm, 4 AM or b4 5pm."],
)
def test_districts_and_times_are_not_postcodes(text):
    assert check_postcodes(text) == []


# ---- dates of birth -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "dob"),
    [
        ("Jane Doe, DOB 14/06/2009, missing", "DOB 14/06/2009"),
        ("D.O.B. 01-02-1990, known to us", "D.O.B. 01-02-1990"),
        ("date of birth 12.11.1974", "date of birth 12.11.1974"),
        ("The man, born 3 March 1985, was found", "born 3 March 1985"),
        ("born on the 5th of November 1991", "born on the 5th of November 1991"),
        ("The boy, born in 2008, is safe", "born in 2008"),
        ("DOB: 1st Jan 90", "DOB: 1st Jan 90"),
        ("John Smith (12/03/1985) is sought", "12/03/1985"),
    ],
)
def test_dates_of_birth_are_found(text, dob):
    (hit,) = check_dates_of_birth(text)
    assert hit.matched == dob
    assert text[hit.start : hit.end] == dob


@pytest.mark.parametrize(
    "text",
    [
        "A man aged 34 was arrested; a 15-year-old was given advice.",
        "Never give your date of birth to cold callers.",
        "Born and bred in Hackney, PC Hassan joined us on 01/02/2024.",
        "Happy birthday to PCSO Grant!",
        "Ward meeting on Tuesday 14 May 2024 at the Guildhall.",
    ],
)
def test_ages_and_other_dates_are_not_dates_of_birth(text):
    assert check_dates_of_birth(text) == []


# ---- named suspects -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("John Smith, 34, of Fann Street has been arrested.", "John Smith"),
        ("Mr Hughes was detained at the scene.", "Mr Hughes"),
        ("Officers arrested Daniel Okafor on Cheapside.", "Daniel Okafor"),
        ("Sarah O'Connor was arrested last night.", "Sarah O'Connor"),
        ("Tyrone WALKER, 22, remains in custody.", "Tyrone WALKER"),
        ("The suspect, named locally as Jamie Price, is known to us.", "Jamie Price"),
        ("John Smith, 34, of 12 Acacia Avenue, SW1A 1AA, has been charged.", "John Smith"),
    ],
)
def test_a_name_near_an_arrest_or_charge_is_flagged(text, name):
    (hit,) = check_named_suspects(text)
    assert hit.matched == name
    assert text[hit.start : hit.end] == name


@pytest.mark.parametrize(
    "text",
    [
        "PC Smith arrested a man on Cheapside.",
        "PCSO Jones and Sgt Patel detained a shoplifter.",
        "Inspector Lee said two suspects were arrested.",
        "PC Sarah Jones and Detective Sergeant Amir Hussain charged a man.",
        "PS 4521 Khan arrested the driver.",
        "Two arrested at Bishopsgate, Moorgate, London Bridge and Liverpool Street.",
        "A man was detained under the Mental Health Act at King William Street.",
        "Wanted: volunteers for Neighbourhood Watch in Queenhithe.",
        "A street named after Sir John Cass.",
        "John Smith thanked the team.",
    ],
)
def test_officers_places_and_names_far_from_an_arrest_are_not_flagged(text):
    assert check_named_suspects(text) == []


def test_a_name_far_from_the_trigger_is_not_flagged():
    text = "John Smith opened the new community garden on a sunny morning with friends; later a man was arrested."
    assert check_named_suspects(text) == []


# ---- victims of sexual offences -----------------------------------------------------------------


def test_identifying_details_in_a_sexual_offence_post_are_each_flagged():
    text = "A 14-year-old girl was sexually assaulted on her way home from school near Whitecross Street."
    hits = check_sexual_offence_victims(text)
    assert matched(hits) == ["14-year-old", "her way home from school", "Whitecross Street"]
    assert all(text[h.start : h.end] == h.matched for h in hits)
    assert "Sexual Offences (Amendment) Act 1992" in hits[0].explanation


@pytest.mark.parametrize(
    "text",
    [
        "A man has been arrested after his stepdaughter disclosed sexual abuse.",
        "The victim, a student at City University, was indecently assaulted.",
        "A woman who works at a bar was raped after her shift.",
        "The nurse, a worker at the Royal London, was touched inappropriately.",
    ],
)
def test_relationships_workplaces_and_studies_identify_a_victim(text):
    assert check_sexual_offence_victims(text) != []


@pytest.mark.parametrize(
    "text",
    [
        "A 15-year-old boy was given advice near his school on Moorgate.",
        "If you've experienced sexual assault, support is available whether or not you report it.",
        "Upskirting is a crime. Report it to us on 101.",
        "Rapeseed fields and grape harvests are not offences.",
    ],
)
def test_ages_without_a_sexual_offence_and_awareness_posts_are_fine(text):
    assert check_sexual_offence_victims(text) == []


# ---- live proceedings ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "phrase"),
    [
        ("A man has been charged with robbery.", "been charged"),
        ("Officers have charged a 24-year-old man.", "have charged"),
        ("Both were remanded in custody.", "remanded"),
        ("He was released on bail.", "bail"),
        ("She was bailed until May.", "bailed"),
        ("The three men will stand trial next year.", "stand trial"),
        ("A court date has been set.", "court date"),
        ("He pleaded not guilty.", "pleaded not guilty"),
        (
            "He will appear at Highbury Corner Magistrates' Court.",
            "appear at Highbury Corner Magistrates' Court",
        ),
        ("The trial is due to begin.", "trial is due"),
        ("He is due to appear at the Old Bailey.", "due to appear at the Old Bailey"),
        ("The jury is out.", "jury"),
    ],
)
def test_references_to_live_proceedings_are_flagged(text, phrase):
    hits = check_live_proceedings(text)
    assert matched(hits)[0] == phrase
    assert all(text[h.start : h.end] == h.matched for h in hits)


@pytest.mark.parametrize(
    "text",
    [
        "Make sure your phone is charged before a night out.",
        "Charge e-bike batteries on a hard surface.",
        "Our new text alert service is on trial until March.",
        "We're trialling a safe space at the Guildhall.",
        "The driver bailed out and ran off.",
        "Traffic is heavy around the Old Bailey this morning.",
        "A man was arrested and released under investigation.",
        "Bailiffs attended with council officers.",
    ],
)
def test_everyday_uses_of_court_words_are_fine(text):
    assert check_live_proceedings(text) == []


# ---- comment on sentences -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "phrase"),
    [
        ("He only got 18 months.", "only got 18 months"),
        ("She should have got longer.", "should have got longer"),
        ("Another soft sentence.", "soft sentence"),
        ("A lenient outcome.", "lenient"),
        ("He got what he deserved.", "got what he deserved"),
        ("Justice served!", "Justice served"),
        ("That's a slap on the wrist.", "slap on the wrist"),
        ("Locked up for three years.", "Locked up for"),
        ("Good riddance.", "Good riddance"),
        ("Magistrates were far too soft on him.", "too soft on"),
    ],
)
def test_opinions_on_sentences_are_flagged(text, phrase):
    (hit,) = check_sentence_comments(text)
    assert hit.matched == phrase
    assert text[hit.start : hit.end] == phrase


@pytest.mark.parametrize(
    "text",
    [
        "A well-deserved award for PC Evans.",
        "Everyone deserves to feel safe walking home.",
        "We only got two calls all night.",
        "He was jailed for six years at Southwark Crown Court.",
        "You should have got a letter from the council.",
    ],
)
def test_plain_statements_and_praise_are_not_sentence_comments(text):
    assert check_sentence_comments(text) == []


# ---- alt text -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "alt",
    [None, "", "   ", "image", "Photo", "A photo", "image 2", "IMG_4471.jpg", "DSC_0042",
     "PXL_20240503_101422", "Screenshot 2024-05-03 at 10.14.22", "photo.png", "...", "llun"],
)  # fmt: skip
def test_missing_and_placeholder_alt_text_is_flagged(alt):
    (hit,) = check_alt_text([alt])
    assert hit.code == "missing-alt-text"
    assert hit.field == "photos[0].alt"
    assert (hit.start, hit.end, hit.matched) == (0, len(alt or ""), alt or "")


@pytest.mark.parametrize(
    "alt",
    ["PC Ahmed marking a bike frame", "Two officers outside Liverpool Street station", "Bikes"],
)
def test_real_descriptions_are_fine(alt):
    assert check_alt_text([alt]) == []


def test_no_photos_means_no_alt_text_hits():
    assert check_alt_text([]) == []
    assert check_post("Patrols tonight.") == []
