"""The plugin's pure rules: distance, time window, quick time entry, report forms and
values, report time limit, sanitising, catalogue values and permissions."""

from __future__ import annotations

import datetime as dt
import math
import threading
from collections.abc import Callable

import pytest

from fiche.accounts.models import Role
from fiche.auth import Viewer
from fiche.errors import ErrorCode, UserErrors
from fiche.plugins.activities.enums import FieldType, GpsStatus
from fiche.plugins.activities.services.access import can_edit, check_assignee
from fiche.plugins.activities.services.catalogue import check_colour, check_icon
from fiche.plugins.activities.services.forms import MAX_TEXT, FieldSpec, check_definitions, validate_values
from fiche.plugins.activities.services.geo import EARTH_RADIUS_M, distance_m, status_for, valid_coordinates, within_window
from fiche.plugins.activities.services.patterns import MAX_PATTERN_INPUT, AnswerTooLong, fullmatches
from fiche.plugins.activities.services.reporting import check_report_time, report_deadline
from fiche.plugins.activities.services.sanitise import clean_description
from fiche.plugins.activities.services.timing import TimeEntry, resolve_times

NOW = dt.datetime(2026, 5, 4, 10, 0, tzinfo=dt.UTC)
PARIS = (48.8566, 2.3522)
LYON = (45.7640, 4.8357)


def paths(exc: pytest.ExceptionInfo[UserErrors]) -> list[list[str]]:
    return [error.path for error in exc.value.errors]


# -- distance and window -------------------------------------------------------------------
def test_distance_between_paris_and_lyon_is_about_392_km() -> None:
    assert distance_m(*PARIS, *LYON) == pytest.approx(391_500, rel=0.005)


def test_distance_of_a_point_to_itself_is_zero() -> None:
    assert distance_m(*LYON, *LYON) == 0


def test_distance_to_the_antipode_is_half_the_circumference() -> None:
    assert distance_m(0, 0, 0, 180) == pytest.approx(math.pi * EARTH_RADIUS_M)


def test_distance_of_one_thousandth_of_a_degree_of_latitude_is_about_111_m() -> None:
    assert distance_m(45.0, 4.0, 45.001, 4.0) == pytest.approx(111.2, abs=0.5)


@pytest.mark.parametrize("latitude, longitude", [(None, 4.0), (45.0, None), (91.0, 0.0), (0.0, -180.5), (math.nan, 0.0), (0.0, math.inf)])
def test_invalid_coordinates_are_refused(latitude: float | None, longitude: float | None) -> None:
    assert not valid_coordinates(latitude, longitude)


def test_coordinates_on_the_limits_are_valid() -> None:
    assert valid_coordinates(-90.0, 180.0)


def test_status_is_verified_on_the_radius_and_out_of_range_beyond() -> None:
    assert (status_for(200.0, 200), status_for(200.1, 200)) == (GpsStatus.VERIFIED, GpsStatus.OUT_OF_RANGE)


def test_window_opens_before_the_start_and_closes_after_the_end() -> None:
    start, end = NOW, NOW + dt.timedelta(hours=1)
    inside = [within_window(NOW - dt.timedelta(minutes=60), start, end, 60), within_window(end + dt.timedelta(minutes=60), start, end, 60)]
    outside = [within_window(NOW - dt.timedelta(minutes=61), start, end, 60), within_window(end + dt.timedelta(minutes=61), start, end, 60)]
    assert (inside, outside) == ([True, True], [False, False])


# -- quick time entry ----------------------------------------------------------------------
def test_starts_now_with_a_duration_preset() -> None:
    assert resolve_times(TimeEntry(starts_now=True, duration_minutes=45), now=NOW) == (NOW, NOW + dt.timedelta(minutes=45))


def test_without_an_end_the_activity_ends_when_it_starts() -> None:
    assert resolve_times(TimeEntry(starts_at=NOW), now=NOW) == (NOW, NOW)


def test_ends_now_after_an_earlier_start() -> None:
    start = NOW - dt.timedelta(minutes=20)
    assert resolve_times(TimeEntry(starts_at=start, ends_now=True), now=NOW) == (start, NOW)


@pytest.mark.parametrize("minutes", [0, 10, 20, 90])
def test_duration_outside_the_presets_is_refused(minutes: int) -> None:
    with pytest.raises(UserErrors) as exc:
        resolve_times(TimeEntry(starts_at=NOW, duration_minutes=minutes), now=NOW)
    assert paths(exc) == [["input", "durationMinutes"]]


def test_end_before_start_is_refused() -> None:
    with pytest.raises(UserErrors) as exc:
        resolve_times(TimeEntry(starts_at=NOW, ends_at=NOW - dt.timedelta(seconds=1)), now=NOW)
    assert paths(exc) == [["input", "endsAt"]]


def test_two_ways_of_giving_the_end_are_refused() -> None:
    with pytest.raises(UserErrors) as exc:
        resolve_times(TimeEntry(starts_at=NOW, ends_at=NOW, duration_minutes=15), now=NOW)
    assert paths(exc) == [["input", "durationMinutes"]]


def test_starts_at_with_starts_now_is_refused() -> None:
    with pytest.raises(UserErrors) as exc:
        resolve_times(TimeEntry(starts_at=NOW, starts_now=True), now=NOW)
    assert paths(exc) == [["input", "startsNow"]]


def test_creation_without_a_start_is_refused() -> None:
    with pytest.raises(UserErrors) as exc:
        resolve_times(TimeEntry(duration_minutes=15), now=NOW)
    assert paths(exc) == [["input", "startsAt"]]


def test_naive_datetime_is_refused() -> None:
    with pytest.raises(UserErrors) as exc:
        resolve_times(TimeEntry(starts_at=NOW.replace(tzinfo=None)), now=NOW)
    assert paths(exc) == [["input", "startsAt"]]


def test_moving_the_start_of_an_existing_activity_keeps_its_duration() -> None:
    current = (NOW, NOW + dt.timedelta(minutes=30))
    moved = NOW + dt.timedelta(days=1)
    assert resolve_times(TimeEntry(starts_at=moved), now=NOW, current=current) == (moved, moved + dt.timedelta(minutes=30))


def test_duration_on_update_counts_from_the_current_start() -> None:
    current = (NOW, NOW + dt.timedelta(minutes=30))
    assert resolve_times(TimeEntry(duration_minutes=60), now=NOW, current=current) == (NOW, NOW + dt.timedelta(minutes=60))


# -- report forms --------------------------------------------------------------------------
FIELDS = [
    FieldSpec("summary", "Summary", FieldType.TEXT, required=True, min_length=5, max_length=50),
    FieldSpec("code", "Code", FieldType.TEXT, pattern=r"[A-Z]{3}-\d{2}"),
    FieldSpec("amount", "Amount", FieldType.NUMBER, min_value=0, max_value=1000),
    FieldSpec("order", "Order", FieldType.BOOLEAN, required=True),
    FieldSpec("next", "Next step", FieldType.CHOICE, choices=("Quote", "Call")),
    FieldSpec("visit", "Next visit", FieldType.DATE),
    FieldSpec("rating", "Rating", FieldType.RATING),
]


def test_valid_values_are_normalised_in_form_order() -> None:
    values = {"rating": 4.0, "summary": "  All good  ", "order": False, "visit": "2026-06-01", "next": "Quote", "amount": 12.5, "code": "ABC-12"}
    assert list(validate_values(FIELDS, values).items()) == [
        ("summary", "All good"), ("code", "ABC-12"), ("amount", 12.5), ("order", False), ("next", "Quote"), ("visit", "2026-06-01"), ("rating", 4),
    ]  # fmt: skip


def test_missing_required_fields_are_each_reported() -> None:
    with pytest.raises(UserErrors) as exc:
        validate_values(FIELDS, {"summary": "   "})
    assert paths(exc) == [["input", "values", "summary"], ["input", "values", "order"]]


@pytest.mark.parametrize(
    "key, value",
    [
        ("summary", "abc"),  # too short
        ("summary", "x" * 51),  # too long
        ("summary", 12),  # not text
        ("code", "abc-12"),  # pattern
        ("amount", -1),  # below min
        ("amount", 1000.5),  # above max
        ("amount", "12"),  # not a number
        ("amount", True),  # a boolean is not a number
        ("order", "yes"),  # not a boolean
        ("next", "Email"),  # not a choice
        ("visit", "01/06/2026"),  # not ISO
        ("visit", "2026-02-30"),  # no such day
        ("rating", 6),
        ("rating", 0),
        ("rating", 3.5),
    ],
)
def test_invalid_value_is_reported_on_its_field(key: str, value: object) -> None:
    values = {"summary": "Fine visit", "order": True, key: value}
    with pytest.raises(UserErrors) as exc:
        validate_values(FIELDS, values)
    assert paths(exc) == [["input", "values", key]]


def test_unknown_field_is_reported() -> None:
    with pytest.raises(UserErrors) as exc:
        validate_values(FIELDS, {"summary": "Fine visit", "order": True, "colour": "red"})
    assert paths(exc) == [["input", "values", "colour"]]


def test_values_must_be_an_object() -> None:
    with pytest.raises(UserErrors) as exc:
        validate_values(FIELDS, ["summary"])
    assert paths(exc) == [["input", "values"]]


def test_form_definitions_report_every_problem_with_its_field() -> None:
    fields = [
        FieldSpec("Bad key", "Label", FieldType.TEXT),
        FieldSpec("ok", "", FieldType.TEXT),
        FieldSpec("ok", "Dup", FieldType.BOOLEAN),
        FieldSpec("n", "N", FieldType.NUMBER, min_value=5, max_value=1),
        FieldSpec("c", "C", FieldType.CHOICE),
        FieldSpec("t", "T", FieldType.TEXT, pattern="(unclosed"),
        FieldSpec("r", "R", FieldType.RATING, min_length=2),
    ]
    with pytest.raises(UserErrors) as exc:
        check_definitions(fields)
    assert paths(exc) == [
        ["input", "fields", "0", "key"],
        ["input", "fields", "1", "label"],
        ["input", "fields", "2", "key"],
        ["input", "fields", "3", "minValue"],
        ["input", "fields", "4", "choices"],
        ["input", "fields", "5", "pattern"],
        ["input", "fields", "6", "minLength"],
    ]


@pytest.mark.parametrize(
    "pattern",
    [
        r"(a)\1",  # backreference: no linear-time engine can run it
        r"(?=a)a",  # lookahead
        r"(?<!x)a",  # lookbehind
        r"(unclosed",  # syntax
        r"a{1000}{1000}",  # more than RE2 accepts to compile
        "a" * 201,  # longer than the column
    ],
)
def test_a_pattern_re2_cannot_run_is_refused_on_its_field(pattern: str) -> None:
    with pytest.raises(UserErrors) as exc:
        check_definitions([FieldSpec("t", "T", FieldType.TEXT, pattern=pattern)])
    assert paths(exc) == [["input", "fields", "0", "pattern"]] and exc.value.errors[0].code is ErrorCode.INVALID


def _in_a_daemon_thread(check: Callable[[], object], guard_seconds: float = 5) -> object:
    """``check()``, run where a runaway regex could not hang the test run (a guard only)."""
    outcome: list[object] = []
    worker = threading.Thread(target=lambda: outcome.append(check()), daemon=True)
    worker.start()
    worker.join(guard_seconds)
    assert outcome, "the pattern did not finish: it is not run in linear time"
    return outcome[0]


def test_a_catastrophic_pattern_on_a_long_answer_is_refused_promptly() -> None:
    # given: (a+)+b backtracks 2^n times in Python's re on n "a" without the final "b"
    spec = FieldSpec("code", "Code", FieldType.TEXT, pattern="(a+)+b")
    check_definitions([spec])

    def refused() -> list[list[str]]:
        with pytest.raises(UserErrors) as exc:
            validate_values([spec], {"code": "a" * MAX_TEXT})
        return paths(exc)

    # when / then
    assert _in_a_daemon_thread(refused) == [["input", "values", "code"]]


def test_a_catastrophic_pattern_still_accepts_a_matching_answer() -> None:
    # given
    spec = FieldSpec("code", "Code", FieldType.TEXT, pattern="(a+)+b")
    # when
    clean = _in_a_daemon_thread(lambda: validate_values([spec], {"code": "a" * (MAX_TEXT - 1) + "b"}))
    # then
    assert clean == {"code": "a" * (MAX_TEXT - 1) + "b"}


def test_a_pattern_matches_the_whole_answer() -> None:
    # given / when / then: a partial match is not enough, as before RE2
    assert (fullmatches(r"[A-Z]{3}", "ABC"), fullmatches(r"[A-Z]{3}", "ABCD"), fullmatches(r"[A-Z]{3}", "xABC")) == (True, False, False)


def test_an_answer_longer_than_the_pattern_cap_is_refused_not_passed() -> None:
    with pytest.raises(AnswerTooLong):
        fullmatches(".*", "a" * (MAX_PATTERN_INPUT + 1))


def test_a_form_needs_a_field() -> None:
    with pytest.raises(UserErrors) as exc:
        check_definitions([])
    assert paths(exc) == [["input", "fields"]]


# -- report time ---------------------------------------------------------------------------
def test_report_before_the_start_is_refused() -> None:
    with pytest.raises(UserErrors) as exc:
        check_report_time(NOW, NOW + dt.timedelta(minutes=1), NOW + dt.timedelta(hours=1), 72)
    assert exc.value.errors[0].code is ErrorCode.CONFLICT and "not started" in exc.value.errors[0].message


def test_report_after_the_limit_is_refused_with_the_deadline() -> None:
    end = NOW - dt.timedelta(hours=73)
    with pytest.raises(UserErrors) as exc:
        check_report_time(NOW, end - dt.timedelta(hours=1), end, 72)
    assert f"{end + dt.timedelta(hours=72):%Y-%m-%d %H:%M}" in exc.value.errors[0].message


def test_report_on_the_deadline_is_accepted() -> None:
    end = NOW - dt.timedelta(hours=72)
    check_report_time(NOW, end - dt.timedelta(hours=1), end, 72)


def test_no_limit_when_the_setting_is_zero() -> None:
    assert report_deadline(NOW, 0) is None
    check_report_time(NOW, NOW - dt.timedelta(days=400), NOW - dt.timedelta(days=400), 0)


# -- sanitising ----------------------------------------------------------------------------
def test_script_tags_are_removed() -> None:
    assert clean_description("<p>Hello</p><script>alert(1)</script>") == "<p>Hello</p>"


def test_event_handlers_are_removed() -> None:
    cleaned = clean_description('<p onclick="x()">Hi <img src=x onerror="alert(1)"></p>')
    assert cleaned is not None and "onerror" not in cleaned and "onclick" not in cleaned and "<img" not in cleaned


def test_javascript_links_lose_their_href_and_links_get_a_safe_rel() -> None:
    cleaned = clean_description('<a href="javascript:alert(1)">x</a> <a href="https://example.org">y</a>')
    assert cleaned == '<a rel="noopener noreferrer nofollow">x</a> <a href="https://example.org" rel="noopener noreferrer nofollow">y</a>'


def test_formatting_and_lists_are_kept() -> None:
    html = "<p><strong>Buyer</strong> <em>met</em></p><ul><li>prices</li></ul>"
    assert clean_description(html) == html


def test_a_description_with_nothing_left_is_none() -> None:
    assert clean_description("<script>x</script>  ") is None


# -- catalogue and permissions -------------------------------------------------------------
def test_colour_is_normalised_and_checked() -> None:
    with pytest.raises(UserErrors):
        check_colour("blue")
    assert check_colour(" #1565c0 ") == "#1565C0"


def test_icon_names_are_checked() -> None:
    with pytest.raises(UserErrors):
        check_icon("<svg>")
    assert check_icon("map-pin") == "map-pin"


def _viewer(role: Role, user_id: int = 1) -> Viewer:
    return Viewer(user_id=user_id, organization_id=1, role=role, name="x", handle="x", team_ids=frozenset())


def test_members_edit_their_own_activities_only() -> None:
    member = _viewer(Role.MEMBER)
    assert [can_edit(member, assignee_id=1, created_by_id=2), can_edit(member, assignee_id=2, created_by_id=1), can_edit(member, assignee_id=2, created_by_id=3)] == [True, True, False]


def test_managers_edit_every_activity() -> None:
    assert can_edit(_viewer(Role.MANAGER), assignee_id=2, created_by_id=3)


def test_a_member_cannot_assign_someone_else() -> None:
    with pytest.raises(UserErrors) as exc:
        check_assignee(_viewer(Role.MEMBER), 2)
    assert exc.value.errors[0].code is ErrorCode.FORBIDDEN
