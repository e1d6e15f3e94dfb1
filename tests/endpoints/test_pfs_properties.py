"""Invariants of the PFS derivation over random histories (hypothesis)."""

from __future__ import annotations

import datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from recist_app.endpoints import CNSR_EVENT, EndpointOptions, PfsCensoring, derive_pfs

FIRST_DOSE = datetime.date(2024, 1, 1)


def on(days: int) -> datetime.date:
    return FIRST_DOSE + datetime.timedelta(days=days)


@st.composite
def histories(
    draw: st.DrawFn,
) -> tuple[
    list[datetime.date],
    datetime.date | None,
    datetime.date | None,
    datetime.date | None,
    EndpointOptions,
]:
    days = sorted(draw(st.sets(st.integers(1, 500), max_size=12)))
    adequate = [on(d) for d in days]
    progression = draw(st.none() | st.sampled_from(adequate)) if adequate else None
    death = draw(st.none() | st.integers(1, 600).map(on))
    therapy = draw(st.none() | st.integers(1, 600).map(on))
    options = EndpointOptions(
        censor_after_missed_assessments=draw(st.booleans()),
        censor_at_new_therapy=draw(st.booleans()),
    )
    return adequate, progression, death, therapy, options


@settings(max_examples=150, deadline=None)
@given(histories())
def test_pfs_end_is_an_event_date_or_a_censoring_anchor(
    history: tuple[
        list[datetime.date],
        datetime.date | None,
        datetime.date | None,
        datetime.date | None,
        EndpointOptions,
    ],
) -> None:
    adequate, progression, death, therapy, options = history
    pfs = derive_pfs(
        has_baseline=True,
        first_dose=FIRST_DOSE,
        adequate_dates=adequate,
        progression_date=progression,
        death_date=death,
        new_therapy_date=therapy,
        options=options,
    )
    assert pfs.start_date == FIRST_DOSE
    assert pfs.days >= 1
    if pfs.event:
        assert pfs.cnsr == CNSR_EVENT
        assert pfs.end_date == min(d for d in (progression, death) if d is not None)
    else:
        assert pfs.cnsr in {2, 3, 4, 5}
        assert pfs.end_date == FIRST_DOSE or pfs.end_date in adequate
    if pfs.cnsr == PfsCensoring.NEW_THERAPY:
        assert therapy is not None
        assert pfs.end_date <= therapy
    if (
        not options.censor_after_missed_assessments
        and not options.censor_at_new_therapy
        and (progression is not None or death is not None)
    ):
        assert pfs.event
