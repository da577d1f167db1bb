"""The domain rules of notes, without a database: bodies, mentions, visibility, recipients."""

from __future__ import annotations

import datetime as dt

import pytest

from fiche.errors import ErrorCode, UserErrors
from fiche.plugins.notes import models, services
from fiche.plugins.notes.queries import rank_mentionable

ORG = models.Visibility.ORGANIZATION
TEAM = models.Visibility.TEAM
MANAGERS = models.Visibility.MANAGERS


def access(user_id: int, *, admin: bool = False, manager: bool = False, teams: tuple[int, ...] = ()) -> services.UserAccess:
    return services.UserAccess(user_id=user_id, is_admin=admin, is_manager=manager or admin, team_ids=frozenset(teams))


# -- bodies --------------------------------------------------------------------------------


def test_check_body_strips_surrounding_space() -> None:
    assert services.check_body("  hello \n", "input", "body") == "hello"


def test_check_body_refuses_whitespace_only() -> None:
    with pytest.raises(UserErrors) as caught:
        services.check_body(" \n\t ", "input", "body")
    assert caught.value.errors[0].code is ErrorCode.INVALID
    assert caught.value.errors[0].path == ["input", "body"]


def test_check_body_refuses_more_than_the_limit() -> None:
    with pytest.raises(UserErrors) as caught:
        services.check_body("x" * (services.MAX_BODY_LENGTH + 1))
    assert caught.value.errors[0].code is ErrorCode.LIMIT_EXCEEDED


def test_check_body_accepts_exactly_the_limit() -> None:
    assert len(services.check_body("x" * services.MAX_BODY_LENGTH)) == services.MAX_BODY_LENGTH


@pytest.mark.parametrize("value", ["#12345", "red", "#12345g", "123456"])
def test_check_color_refuses_what_is_not_rrggbb(value: str) -> None:
    with pytest.raises(UserErrors):
        services.check_color(value)


def test_check_color_lowercases() -> None:
    assert services.check_color(" #A1B2C3 ") == "#a1b2c3"


def test_check_category_name_collapses_spaces_and_refuses_empty() -> None:
    assert services.check_category_name("  Mise   en place ") == "Mise en place"
    with pytest.raises(UserErrors):
        services.check_category_name("   ")


# -- mentions ------------------------------------------------------------------------------


def test_mention_candidates_carry_character_ranges_of_the_at_sign_and_handle() -> None:
    # given
    body = "Merci @Marc et @sophie.m !"
    # when
    candidates = services.find_mention_candidates(body)
    # then
    assert [(c.handle, body[c.start : c.stop]) for c in candidates] == [("marc", "@Marc"), ("sophie.m", "@sophie.m")]


def test_email_addresses_are_not_mentions() -> None:
    assert services.find_mention_candidates("écrire à marc@example.com") == []


def test_double_at_is_not_a_mention() -> None:
    assert services.find_mention_candidates("@@marc") == []


def test_one_letter_handles_are_not_mentions() -> None:
    assert services.find_mention_candidates("@a b") == []


def test_offsets_count_characters_not_bytes() -> None:
    # given
    body = "Élodie → @marc"
    # when
    [candidate] = services.find_mention_candidates(body)
    # then
    assert (candidate.start, candidate.stop) == (9, 14)


def test_resolution_drops_sentence_punctuation_after_a_handle() -> None:
    # given
    body = "Vu avec @marc."
    # when
    [mention] = services.resolve_mentions(services.find_mention_candidates(body), {"marc": 7})
    # then
    assert (mention.user_id, mention.handle, body[mention.start : mention.stop]) == (7, "marc", "@marc")


def test_resolution_prefers_the_longest_known_handle() -> None:
    # given
    candidates = services.find_mention_candidates("@jean.dupont.")
    # when
    [mention] = services.resolve_mentions(candidates, {"jean.dupont": 1, "jean": 2})
    # then
    assert mention.user_id == 1 and mention.handle == "jean.dupont"


def test_unknown_handles_stay_plain_text() -> None:
    assert services.resolve_mentions(services.find_mention_candidates("@nobody @marc"), {"marc": 3}) == [
        services.ResolvedMention(3, "marc", 8, 13)
    ]


def test_handle_variants_strip_trailing_punctuation_but_keep_two_characters() -> None:
    assert services.handle_variants("ab-_.") == ["ab-_.", "ab-_", "ab-", "ab"]
    assert services.handle_variants("a.") == ["a."]


# -- visibility ----------------------------------------------------------------------------


def test_organization_notes_are_for_everyone() -> None:
    assert services.can_see(access(5), services.NoteAccess(ORG, None, 1))


def test_team_notes_are_for_team_members() -> None:
    note = services.NoteAccess(TEAM, 10, 1)
    assert services.can_see(access(5, teams=(10,)), note)
    assert not services.can_see(access(6, teams=(11,)), note)


def test_a_manager_outside_the_team_does_not_read_team_notes() -> None:
    assert not services.can_see(access(5, manager=True, teams=(11,)), services.NoteAccess(TEAM, 10, 1))


def test_managers_notes_are_for_managers_and_admins_only() -> None:
    note = services.NoteAccess(MANAGERS, None, 1)
    assert services.can_see(access(5, manager=True), note)
    assert services.can_see(access(6, admin=True), note)
    assert not services.can_see(access(7, teams=(10,)), note)


def test_author_and_assignee_always_read_their_note() -> None:
    note = services.NoteAccess(MANAGERS, None, 1, assignee_id=2)
    assert services.can_see(access(1), note)
    assert services.can_see(access(2), note)


def test_a_team_note_whose_team_is_gone_is_for_author_and_admins() -> None:
    note = services.NoteAccess(TEAM, None, 1)
    assert not services.can_see(access(5, teams=(10,)), note)
    assert services.can_see(access(6, admin=True), note)


# -- recipients ----------------------------------------------------------------------------


def test_recipients_never_include_the_actor() -> None:
    rules = services.note_recipients(actor_id=1, assignee_id=1, mentioned=[1], followers=[1], may_read=lambda _: True)
    assert rules == []


def test_recipients_are_ordered_assignee_then_mentions_then_followers() -> None:
    rules = services.note_recipients(actor_id=1, assignee_id=2, mentioned=[3, 3, 4], followers=[4, 5], may_read=lambda _: True)
    assert rules == [("TASK_ASSIGNED", [2]), ("MENTION", [3, 4]), ("FOLLOWED_CUSTOMER_NOTE", [4, 5])]


def test_recipients_who_may_not_read_are_dropped() -> None:
    rules = services.note_recipients(
        actor_id=1, assignee_id=None, mentioned=[], followers=[4, 5], may_read=lambda user: user != 5
    )
    assert rules == [("FOLLOWED_CUSTOMER_NOTE", [4])]


# -- small helpers -------------------------------------------------------------------------


def test_excerpt_is_one_line_and_bounded() -> None:
    assert services.excerpt("a\nb   c") == "a b c"
    assert services.excerpt("x" * 100, 10) == "x" * 9 + "…"


def test_note_links_lead_to_the_target_or_the_note() -> None:
    assert services.note_link("N", "Customer", "C") == "/customers/C#note-N"
    assert services.note_link("N", "LoyaltyCard", "L") == "/loyalty-cards/L#note-N"
    assert services.note_link("N", None, None) == "/notes/N"


def test_note_links_spell_plurals_of_subject_types() -> None:
    assert services.note_link("N", "Activity", "A") == "/activities/A#note-N"
    assert services.note_link("N", "Delivery", "D") == "/deliveries/D#note-N"
    assert services.note_link("N", "Survey", "S") == "/surveys/S#note-N"
    assert services.note_link("N", "TaxBox", "T") == "/tax-boxes/T#note-N"


def test_overdue_needs_a_past_due_date_and_no_completion() -> None:
    now = dt.datetime(2026, 1, 10, tzinfo=dt.UTC)
    past, future = now - dt.timedelta(days=1), now + dt.timedelta(days=1)
    assert services.is_overdue(past, None, now)
    assert not services.is_overdue(future, None, now)
    assert not services.is_overdue(past, now, now)
    assert not services.is_overdue(None, None, now)


@pytest.mark.parametrize(
    ("prefix", "expected"),
    [("@marc", 0), ("ma", 1), ("lef", 2), ("LÉF", 2), ("", 3), ("zz", None)],
)
def test_rank_mentionable_matches_handle_then_name_words_ignoring_case_and_accents(prefix: str, expected: int | None) -> None:
    assert rank_mentionable(prefix, "marc", "Marc Lefèvre") == expected
