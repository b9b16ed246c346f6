"""Each instrument analysed as it is reported, on small examples computed by hand."""

from __future__ import annotations

import datetime as dt

import pytest

from tracker.core.db.models import RaterRole, RatingMethod, VisitKind
from tracker.core.domain import rules
from tracker.core.domain.instruments import TOTAL, Rater, RatingFact, analyse, describe, headline
from tracker.core.domain.scales import get_scale

D = [dt.date(2025, 1, 6), dt.date(2025, 2, 3), dt.date(2025, 3, 3)]
LEE = Rater(RaterRole.PRACTITIONER, "Dr Lee")
KIM = Rater(RaterRole.PRACTITIONER, "Dr Kim")
ANA = Rater(RaterRole.PATIENT, "")


def fact(n: int, rater: Rater, **values: float) -> RatingFact:
    return RatingFact(n, D[n], rater, RatingMethod.IN_PERSON, values)


OBSERVER_1 = dict(
    vascularity=6, pigmentation=7, thickness=5, relief=6, pliability=4, surface_area=5, overall=7
)  # total 6+7+5+6+4+5 = 33
OBSERVER_2 = dict(
    vascularity=4, pigmentation=5, thickness=3, relief=4, pliability=3, surface_area=4, overall=5
)  # total 4+5+3+4+3+4 = 23


def test_a_posas_total_is_the_sum_of_its_six_items_and_the_overall_opinion_stands_apart() -> None:
    scale = get_scale("posas2-observer")
    assert scale.total_range == (6, 60)
    assert scale.total(OBSERVER_1) == 33
    assert scale.total({k: v for k, v in OBSERVER_1.items() if k != "relief"}) is None
    assert describe(scale, OBSERVER_1) == "total 33 (6–60), overall 7"
    result = analyse(scale, [fact(2, LEE, **OBSERVER_2), fact(0, LEE, **OBSERVER_1)])
    total = next(c for c in result.changes if c.item == TOTAL)
    assert (total.label, total.baseline, total.latest, total.change) == (
        "Total (6–60)",
        33,
        23,
        -10,
    )
    assert total.percent == pytest.approx(-30.30, abs=0.01) and total.improved is True
    overall = next(c for c in result.changes if c.item == "overall")
    assert (overall.baseline, overall.latest, overall.change) == (7, 5, -2)
    # Every item, the overall opinion and the total: one series each for the one rater.
    assert len(result.series) == 8 and {s.rater for s in result.series} == {LEE}
    assert result.grades == () and result.levels == ()


def test_two_practitioners_are_two_series_and_averaged_into_the_roles_change() -> None:
    scale = get_scale("ctd")
    result = analyse(
        scale,
        [
            fact(0, LEE, colour=8),
            fact(0, KIM, colour=6),  # the role's baseline: (8 + 6) / 2 = 7
            fact(2, LEE, colour=5),
            fact(2, KIM, colour=4),  # the role's latest: 4.5
            fact(0, ANA, colour=9),
            fact(1, ANA, colour=9),
        ],
    )
    assert [(s.rater.name, [p.value for p in s.points]) for s in result.series] == [
        ("", [9, 9]),
        ("Dr Kim", [6, 4]),
        ("Dr Lee", [8, 5]),
    ]
    by_role = {c.role: c for c in result.changes}
    assert (by_role[RaterRole.PRACTITIONER].baseline, by_role[RaterRole.PRACTITIONER].latest) == (
        7,
        4.5,
    )
    assert by_role[RaterRole.PRACTITIONER].percent == pytest.approx(-100 * 2.5 / 7)
    assert by_role[RaterRole.PRACTITIONER].rated_by == "practitioner (mean of 2)"
    assert by_role[RaterRole.PATIENT].rated_by == "patient"
    # Dr Lee at the baseline against Dr Kim at the latest is not one rater's change: said so.
    other = analyse(scale, [fact(0, LEE, colour=8), fact(2, KIM, colour=4)])
    assert other.changes[0].rated_by == "practitioner (other raters at the two dates)"
    assert by_role[RaterRole.PATIENT].change == 0 and by_role[RaterRole.PATIENT].improved is None
    assert describe(scale, {"colour": 7, "depth": 5}) == "colour 7, depth 5"


def test_gais_is_a_distribution_per_visit_and_never_a_change_from_baseline() -> None:
    scale = get_scale("gais")
    raters = [Rater(RaterRole.PRACTITIONER, n) for n in ("A", "B", "C", "D")]
    result = analyse(
        scale,
        [
            fact(1, raters[0], overall=4),
            fact(1, raters[1], overall=3),
            fact(2, raters[0], overall=2),
            fact(2, raters[1], overall=2),
            fact(2, raters[2], overall=3),
            fact(2, raters[3], overall=4),
            fact(2, ANA, overall=1),
        ],
    )
    assert result.changes == ()
    later = [g for g in result.grades if g.date == D[2]]
    practitioners = next(g for g in later if g.role is RaterRole.PRACTITIONER)
    # 2 "much improved", 1 "improved", 1 "no change": 3 of 4 improved.
    assert practitioners.counts == ((1, 0), (2, 2), (3, 1), (4, 1), (5, 0))
    assert (practitioners.total, practitioners.improved) == (4, 3)
    assert practitioners.share_improved == 0.75
    patient = next(g for g in later if g.role is RaterRole.PATIENT)
    assert patient.counts[0] == (1, 1) and patient.share_improved == 1.0
    first = next(g for g in result.grades if g.date == D[1])
    assert (first.total, first.improved) == (2, 1)
    assert describe(scale, {"overall": 2}) == "much improved (2)"


def test_the_improvement_vas_is_its_value_over_time_as_given() -> None:
    scale = get_scale("improvement-vas")
    result = analyse(scale, [fact(1, ANA, overall=3), fact(2, ANA, overall=6.5)])
    assert result.changes == ()  # no baseline subtraction: 6.5 is already "since baseline"
    assert [p.value for p in result.series[0].points] == [3, 6.5]
    (level,) = result.levels
    assert (level.role, level.value, level.date, level.visits) == (RaterRole.PATIENT, 6.5, D[2], 2)
    assert describe(scale, {"overall": 6.5}) == "6.5 of 10"


def test_an_area_is_treated_where_it_has_a_record_or_photos_at_a_treatment_visit() -> None:
    T, B, C = VisitKind.TREATMENT, VisitKind.BASELINE, VisitKind.CHECK_IN
    assert rules.is_session(T, has_record=False, has_photos=True)
    assert rules.is_session(C, has_record=True, has_photos=False)  # what was done is written down
    assert not rules.is_session(T, has_record=False, has_photos=False)  # another area's session
    assert not rules.is_session(B, has_record=False, has_photos=True)
    # An untreated control area is never treated, whatever was recorded of it.
    assert not rules.is_session(T, has_record=True, has_photos=True, untreated=True)
    assert rules.area_baseline([D[2], D[1]]) == D[1] and rules.area_baseline([]) is None


def test_raters_are_named_and_the_patient_is_the_client() -> None:
    assert ANA.label("Ana Lima") == "Ana Lima"
    assert LEE.label("Ana Lima") == "Dr Lee"
    assert Rater(RaterRole.PRACTITIONER, "").label("Ana") == "Practitioner (unnamed)"


def test_each_instrument_has_a_one_sentence_finding() -> None:
    posas = analyse(
        get_scale("posas2-observer"), [fact(0, LEE, **OBSERVER_1), fact(2, LEE, **OBSERVER_2)]
    )
    assert headline(posas) == (
        "Total (6–60), practitioner: 33 on 6 Jan 2025 → 23 on 3 Mar 2025 (−10, −30.3%) "
        "(lower is better)."
    )
    gais = analyse(get_scale("gais"), [fact(2, LEE, overall=2), fact(2, KIM, overall=4)])
    assert headline(gais) == "Latest, 3 Mar 2025: practitioner 1 of 2 improved (50%)."
    vas = analyse(get_scale("improvement-vas"), [fact(1, ANA, overall=6.5)])
    assert headline(vas) == "Latest: patient 6.5 of 10 (3 Feb 2025)."
    one = analyse(get_scale("ctd"), [fact(0, ANA, colour=5)])
    assert headline(one) == "One rating so far: change from baseline needs a second."
    assert (
        headline(analyse(get_scale("ctd"), []))
        == "No ratings on the Colour, texture, depth scale yet."
    )
