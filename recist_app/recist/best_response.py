"""Best overall response across timepoints, with and without confirmation (G1–G6).

The derivation follows RECIST 1.1 Table 3 and the admiralonco event definitions the
sponsor's statisticians use (docs/standards.md 3.2), so both give the same numbers:

confirmed (G2, G3): CR confirmed by a CR ≥ ``confirmation_min_days`` later with only
CR/NE between; else PR confirmed by a CR/PR that late with only CR/PR/NE between and
no PR after a CR; at most ``max_ne_between_confirmation`` NE between. Then SD (any
CR/PR/SD at ≥ ``sd_min_days`` after first dose, G4, G6), NON-CR/NON-PD on the same
condition, PD, and NE. A CR followed by disease that cannot be SD is PD (Table 3
footnote: a true CR followed by any disease is progression).

Each event carries the visit's target and non-target categories, not only its
overall response, so the derivation can tell disease seen from disease not
evaluated. A PR whose targets are still CR and whose non-targets were not
evaluated (Table 1: CR, not evaluated, no new lesion → PR) shows no disease: it is
a CR visit with an incomplete non-target read. For it (docs/rules.md G3):

- the Table 3 footnote does not apply: after a CR it is not "disease", so alone it
  gives NE, or SD once the SD minimum is met (G4), never PD;
- admiralonco's "no PR after a CR" (``cbor_pr``, STANDARDS.md 3.2) is about a PR
  that shows disease again; this PR does not stop a PR's confirmation and, being
  at least a PR, confirms it;
- between a CR and the CR that confirms it, it counts as an NE (its non-targets
  were not evaluated), within ``max_ne_between_confirmation``.

unconfirmed (G5): the best single response, SD subject to G4.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

from recist_app.recist.assessment import BestOverallResponse
from recist_app.recist.enums import Response

if TYPE_CHECKING:
    import datetime
    from collections.abc import Sequence

    from recist_app.recist.model import ResponseParameters

__all__ = [
    "ResponseEvent",
    "best_overall_response",
    "best_overall_responses",
    "best_response_category",
    "response_start",
]

# Enum members bound once: class attribute access on enums is slow in hot loops.
_CR = Response.CR
_PR = Response.PR
_SD = Response.SD
_PD = Response.PD
_NE = Response.NE
_NON_CR_NON_PD = Response.NON_CR_NON_PD
_NED = Response.NED

_SD_QUALIFYING = frozenset({_CR, _PR, _SD})
_RELAPSE = frozenset({_PR, _SD, _NON_CR_NON_PD})  # after a CR, if disease was seen
_DISEASE_TARGET = frozenset({_PR, _SD})  # targets neither gone nor PD
# G3: what may come between a response and its confirmation
_ALLOWED_BEFORE_CONFIRMATION = {
    _CR: frozenset({_CR, _NE}),
    _PR: frozenset({_CR, _PR, _NE}),
}
_STABLE_CATEGORIES = (
    (_SD_QUALIFYING, _SD),
    (frozenset({_NON_CR_NON_PD}), _NON_CR_NON_PD),
)


class ResponseEvent(NamedTuple):
    """One follow-up's responses, as the BOR derivation sees them.

    ``response`` is the overall response; ``target`` and ``non_target`` are the
    visit's target and non-target categories (``None`` when the patient has no
    target, or no non-target, lesions), so that a PR after a CR can be told
    apart: disease seen again, or a CR visit whose non-targets were not
    evaluated (Table 3 footnote, module docstring). A named tuple, not a frozen
    dataclass: ``assess`` makes one per follow-up, and a tuple is several times
    cheaper to make (``benchmarks/bench_assess.py``).
    """

    visit: str
    date: datetime.date
    response: Response
    target: Response | None
    non_target: Response | None


def best_overall_responses(
    events: Sequence[ResponseEvent],
    *,
    reference_date: datetime.date,
    params: ResponseParameters,
    no_disease: bool = False,
) -> tuple[BestOverallResponse, BestOverallResponse]:
    """Derive the confirmed and the unconfirmed best overall response.

    Parameters
    ----------
    events
        Follow-up overall responses in date order, from the start of treatment.
        Events after the first PD are ignored (G1).
    reference_date
        First dose date, or the baseline date when it is unknown (G4).
    params
        Confirmation and SD windows.
    no_disease
        True when the baseline had no disease (A8): BOR is NED unless PD.

    Returns
    -------
    tuple of BestOverallResponse
        ``(confirmed, unconfirmed)``.
    """
    return (
        best_overall_response(
            events,
            reference_date=reference_date,
            params=params,
            no_disease=no_disease,
            confirmation=True,
        ),
        best_overall_response(
            events,
            reference_date=reference_date,
            params=params,
            no_disease=no_disease,
            confirmation=False,
        ),
    )


def best_overall_response(
    events: Sequence[ResponseEvent],
    *,
    reference_date: datetime.date,
    params: ResponseParameters,
    no_disease: bool = False,
    confirmation: bool,
) -> BestOverallResponse:
    """Derive one best overall response: confirmed (G2, G3) or not (G5).

    See :func:`best_overall_responses` for the parameters.
    """
    window = _until_first_progression(events)
    if not window:
        return BestOverallResponse(
            response=_NED if no_disease else _NE,
            confirmed=False,
            date=None,
            confirmation_date=None,
            reasons=(
                "no post-baseline assessment → " + ("NED (A8)" if no_disease else "NE"),
            ),
        )
    if no_disease:
        return _no_disease_bor(window)
    if confirmation:
        return _confirmed_bor(window, reference_date, params)
    return _unconfirmed_bor(window, reference_date, params)


def best_response_category(
    events: Sequence[ResponseEvent],
    *,
    reference_date: datetime.date,
    params: ResponseParameters,
    no_disease: bool = False,
    confirmation: bool,
) -> Response:
    """Only the category :func:`best_overall_response` derives, without reasons.

    The per-visit "best response so far" needs just the category, once per
    follow-up; this takes the same decisions through the same helpers in the same
    order and skips building dates and reason text (tested equal on random
    courses).
    """
    window = _until_first_progression(events)
    if not window:
        return _NED if no_disease else _NE
    if no_disease:
        return _PD if _first(window, _PD) is not None else _NED
    for target in (_CR, _PR):
        found = (
            _find_confirmed(window, target, params)
            if confirmation
            else _first(window, target)
        )
        if found is not None:
            return target
    stable = _stable_event(window, reference_date, params)
    if stable is not None:
        return stable[1]
    if _first(window, _PD) is not None:
        return _PD
    if confirmation and _cr_followed_by_disease(window) is not None:
        return _PD
    return _NE


def _until_first_progression(
    events: Sequence[ResponseEvent],
) -> Sequence[ResponseEvent]:
    for index, event in enumerate(events):
        if event.response is _PD:
            return events[: index + 1]
    return events  # only read, never changed: no copy


def _no_disease_bor(window: Sequence[ResponseEvent]) -> BestOverallResponse:
    progression = _first(window, _PD)
    if progression is not None:
        return _pd(progression, "new disease after a baseline without disease")
    return BestOverallResponse(
        response=_NED,
        confirmed=False,
        date=None,
        confirmation_date=None,
        reasons=("no disease at baseline and none since → NED (A8)",),
    )


def _confirmed_bor(
    window: Sequence[ResponseEvent],
    reference_date: datetime.date,
    params: ResponseParameters,
) -> BestOverallResponse:
    for target in (_CR, _PR):
        pair = _find_confirmed(window, target, params)
        if pair is not None:
            first, confirming = pair
            days = (confirming.date - first.date).days
            return BestOverallResponse(
                response=target,
                confirmed=True,
                date=first.date,
                confirmation_date=confirming.date,
                reasons=(
                    f"{target.value} at {first.visit} confirmed by "
                    f"{confirming.response.value} at {confirming.visit} {days} days "
                    f"later (≥ {params.confirmation_min_days}) → {target.value} (G3)",
                ),
            )
    notes = _unconfirmed_notes(window)
    stable = _stable_disease(window, reference_date, params, notes)
    if stable is not None:
        return stable
    progression = _first(window, _PD)
    if progression is not None:
        return _pd(progression, "SD not met before progression (G4)", notes)
    relapse = _cr_followed_by_disease(window)
    if relapse is not None:
        cr, later = relapse
        return BestOverallResponse(
            response=_PD,
            confirmed=False,
            date=later.date,
            confirmation_date=None,
            reasons=(
                f"CR at {cr.visit} followed by {later.response.value} at "
                f"{later.visit} before SD could qualify: a true CR followed by any "
                "disease is PD; if that CR was in fact a PR, correct it "
                "(Table 3 footnote)",
            ),
        )
    return _not_evaluable(window, reference_date, params, notes)


def _unconfirmed_bor(
    window: Sequence[ResponseEvent],
    reference_date: datetime.date,
    params: ResponseParameters,
) -> BestOverallResponse:
    for target in (_CR, _PR):
        event = _first(window, target)
        if event is not None:
            return BestOverallResponse(
                response=target,
                confirmed=False,
                date=event.date,
                confirmation_date=None,
                reasons=(
                    f"{target.value} at {event.visit}; confirmation not required "
                    f"→ {target.value} (G5)",
                ),
            )
    stable = _stable_disease(window, reference_date, params, ())
    if stable is not None:
        return stable
    progression = _first(window, _PD)
    if progression is not None:
        return _pd(progression, "SD not met before progression (G4)", ())
    return _not_evaluable(window, reference_date, params, ())


def _find_confirmed(
    window: Sequence[ResponseEvent], target: Response, params: ResponseParameters
) -> tuple[ResponseEvent, ResponseEvent] | None:
    """First ``target`` response confirmed per G3 (admiralonco ``cbor_cr/cbor_pr``)."""
    for index, first in enumerate(window):
        if first.response is not target:
            continue
        confirming = _confirmation(window, index, params)
        if confirming is not None:
            return first, confirming
    return None


def _confirmation(
    window: Sequence[ResponseEvent], index: int, params: ResponseParameters
) -> ResponseEvent | None:
    """The assessment that confirms the CR or PR at ``window[index]`` (G3), if any."""
    first = window[index]
    target = first.response
    allowed_between = _ALLOWED_BEFORE_CONFIRMATION[target]
    not_evaluable = 0
    seen_cr = False
    for later in window[index + 1 :]:
        response = later.response
        if target is _CR and response is _PR and _non_targets_not_evaluated(later):
            # G3: a CR visit whose non-targets were not evaluated is NE here
            response = _NE
        if response not in allowed_between:
            return None
        if response is _NE:
            not_evaluable += 1
            if not_evaluable > params.max_ne_between_confirmation:
                return None
            continue
        if response is _PR and seen_cr and _disease_seen(later):
            # admiralonco cbor_pr: no PR after a CR, where that PR shows disease
            # again; targets still CR with non-targets not evaluated are no
            # disease and confirm the PR (G3, STANDARDS.md 3.2)
            return None
        seen_cr = seen_cr or response is _CR
        if (later.date - first.date).days >= params.confirmation_min_days:
            return later
    return None


def response_start(
    events: Sequence[ResponseEvent],
    *,
    params: ResponseParameters,
    confirmation: bool,
) -> ResponseEvent | None:
    """Where the response began: the first CR or PR, or the first one confirmed.

    RECIST 1.1 §4.4.1 (docs/standards.md 3.5): the duration of response runs
    "from the time measurement criteria are first met for CR/PR (whichever is
    first recorded)". With ``confirmation`` that is the first CR or PR that was
    later confirmed (G3) — a PR confirmed by a later CR starts the response, not
    the CR — otherwise the first CR or PR (G5). ``None`` without a response.
    Events after the first PD are ignored (G1).

    >>> import datetime
    >>> from recist_app.recist import ResponseParameters
    >>> day = lambda n: datetime.date(2024, 1, 1) + datetime.timedelta(days=n)
    >>> events = [
    ...     ResponseEvent("W8", day(56), Response.PR, Response.PR, None),
    ...     ResponseEvent("W16", day(112), Response.CR, Response.CR, None),
    ...     ResponseEvent("W24", day(168), Response.CR, Response.CR, None),
    ... ]
    >>> start = response_start(events, params=ResponseParameters(), confirmation=True)
    >>> start.visit
    'W8'
    """
    window = _until_first_progression(events)
    for index, event in enumerate(window):
        if event.response is not _CR and event.response is not _PR:
            continue
        if not confirmation or _confirmation(window, index, params) is not None:
            return event
    return None


def _disease_seen(event: ResponseEvent) -> bool:
    """Whether the visit saw disease: targets PR/SD or non-targets present.

    After a CR this is the "disease" of the Table 3 footnote (G3). Overall PD is
    decided apart; an overall PR whose targets are CR and whose non-targets were
    not evaluated saw none.
    """
    return event.target in _DISEASE_TARGET or event.non_target is _NON_CR_NON_PD


def _non_targets_not_evaluated(event: ResponseEvent) -> bool:
    """Table 1's "CR, not evaluated, no new lesion → PR": a CR visit, read in part."""
    return event.target is _CR and event.non_target is _NE


def _stable_event(
    window: Sequence[ResponseEvent],
    reference_date: datetime.date,
    params: ResponseParameters,
) -> tuple[ResponseEvent, Response] | None:
    """The first event that makes SD (or NON-CR/NON-PD) the best response (G4)."""
    for qualifying, response in _STABLE_CATEGORIES:
        for event in window:
            if (
                event.response in qualifying
                and (event.date - reference_date).days >= params.sd_min_days
            ):
                return event, response
    return None


def _stable_disease(
    window: Sequence[ResponseEvent],
    reference_date: datetime.date,
    params: ResponseParameters,
    notes: tuple[str, ...],
) -> BestOverallResponse | None:
    found = _stable_event(window, reference_date, params)
    if found is None:
        return None
    event, response = found
    days = (event.date - reference_date).days
    return BestOverallResponse(
        response=response,
        confirmed=False,
        date=event.date,
        confirmation_date=None,
        reasons=(
            *notes,
            f"{event.response} at {event.visit}, day {days} "
            f"(≥ {params.sd_min_days}) → {response} (G4)",
        ),
    )


def _cr_followed_by_disease(
    window: Sequence[ResponseEvent],
) -> tuple[ResponseEvent, ResponseEvent] | None:
    """A CR and the first later visit that saw disease again (Table 3 footnote).

    Only disease seen counts (:func:`_disease_seen`): a PR that merely reflects
    non-targets not evaluated after the CR is no relapse (G3).
    """
    for index, event in enumerate(window):
        if event.response is not _CR:
            continue
        for later in window[index + 1 :]:
            if later.response in _RELAPSE and _disease_seen(later):
                return event, later
    return None


def _not_evaluable(
    window: Sequence[ResponseEvent],
    reference_date: datetime.date,
    params: ResponseParameters,
    notes: tuple[str, ...],
) -> BestOverallResponse:
    last = window[-1]
    early = [
        event
        for event in window
        if event.response is not _NE
        and (event.date - reference_date).days < params.sd_min_days
    ]
    if early:
        why = (
            f"{', '.join(f'{e.response.value} at {e.visit}' for e in early)} before "
            f"day {params.sd_min_days}: SD not met (G4) → NE"
        )
    else:
        why = f"no evaluable response up to {last.visit} → NE"
    return BestOverallResponse(
        response=_NE,
        confirmed=False,
        date=None,
        confirmation_date=None,
        reasons=(*notes, why),
    )


def _unconfirmed_notes(window: Sequence[ResponseEvent]) -> tuple[str, ...]:
    notes: list[str] = []
    cr_visit: str | None = None
    for event in window:
        response = event.response
        if response is not _CR and response is not _PR:
            continue
        note = f"{response.value} at {event.visit} not confirmed (G2)"
        if cr_visit is not None and _non_targets_not_evaluated(event):
            note += (
                f"; targets still CR, non-targets not evaluated: no disease seen "
                f"after the CR at {cr_visit}, so no progression (Table 3 footnote, "
                "G3)"
            )
        notes.append(note)
        if response is _CR and cr_visit is None:
            cr_visit = event.visit
    return tuple(notes)


def _first(window: Sequence[ResponseEvent], response: Response) -> ResponseEvent | None:
    return next((event for event in window if event.response is response), None)


def _pd(
    event: ResponseEvent, why: str, notes: tuple[str, ...] = ()
) -> BestOverallResponse:
    return BestOverallResponse(
        response=_PD,
        confirmed=False,
        date=event.date,
        confirmation_date=None,
        reasons=(*notes, f"{why}; PD at {event.visit} → PD"),
    )
