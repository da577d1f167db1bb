"""The route solver (A8) against brute force on small days: over random days of 2 to 7
stops around Lyon, some at fixed times, VROOM's order is never longer than the day as
planned, arrives in time at every fixed appointment, and is as short as the best order
brute force finds among those that do (tolerance: 1 metre, for rounding of the solver's
integer costs)."""

from __future__ import annotations

import itertools
import math
import random

import pytest

from fiche.plugins.activities.services.geo import distance_m
from fiche.plugins.activities.services.routing import SolverStop, plan_route

SPEED_KMH = 40.0
TOLERANCE_M = 1.0
LYON = (45.76, 4.84)


def random_day(rng: random.Random, size: int) -> list[SolverStop]:
    """Stops within about 15 km of Lyon between 8:00 and 18:00; about a third at fixed times,
    planned an hour apart or more (so that the planned order itself is feasible)."""
    stops = []
    for index in range(size):
        latitude = LYON[0] + rng.uniform(-0.13, 0.13)
        longitude = LYON[1] + rng.uniform(-0.18, 0.18)
        start = (8 + index * 75 // 60) * 3600 + (index * 75 % 60) * 60
        stops.append(SolverStop(latitude=latitude, longitude=longitude, start=start, service=30 * 60, fixed=rng.random() < 0.35))
    rng.shuffle(stops)
    return stops


def length(order: tuple[int, ...] | list[int], stops: list[SolverStop]) -> float:
    return sum(distance_m(stops[a].latitude, stops[a].longitude, stops[b].latitude, stops[b].longitude) for a, b in zip(order, order[1:]))


def on_time(order: tuple[int, ...] | list[int], stops: list[SolverStop]) -> bool:
    """Whether some departure time reaches every fixed stop of ``order`` by its start
    (written independently of the planner: latest feasible departure, walking backwards)."""
    speed = SPEED_KMH * 1000 / 3600
    deadline = math.inf  # the latest time we may arrive at the current stop
    for position in range(len(order) - 1, -1, -1):
        stop = stops[order[position]]
        if stop.fixed and stop.start is not None:
            deadline = min(deadline, stop.start)
        if position > 0:
            previous = stops[order[position - 1]]
            travel = math.ceil(distance_m(previous.latitude, previous.longitude, stop.latitude, stop.longitude) / speed)
            leave_by = deadline - travel
            # we may begin the previous stop no later than leave_by - its service
            deadline = leave_by - previous.service
            if previous.fixed and previous.start is not None and previous.start > deadline:
                return False
    return True


def brute_force(stops: list[SolverStop]) -> float | None:
    """The shortest order that is on time, None when none is."""
    lengths = [length(order, stops) for order in itertools.permutations(range(len(stops))) if on_time(order, stops)]
    return min(lengths) if lengths else None


@pytest.mark.parametrize("seed", range(60))
def test_the_solver_is_optimal_on_small_days_and_never_worse_than_planned(seed: int) -> None:
    # given
    rng = random.Random(seed)
    stops = random_day(rng, rng.randint(2, 7))
    # when
    route = plan_route(stops, SPEED_KMH)
    # then
    best = brute_force(stops)
    assert sorted(route.order) == list(range(len(stops)))
    planned = sorted(range(len(stops)), key=lambda index: (stops[index].start, index))
    # never longer than the day as planned, unless the planned order is late for an appointment
    assert route.total <= route.planned_total + 1e-6 or not on_time(planned, stops)
    assert abs(route.total - length(route.order, stops)) < 1e-6
    if best is None:  # appointments too tight in any order: the day stays as planned
        assert not route.optimized and route.note is not None and route.total == route.planned_total
    else:
        assert on_time(route.order, stops) and route.optimized
        assert route.total <= best + TOLERANCE_M


def test_fixed_appointments_are_kept_even_when_a_shorter_order_exists() -> None:
    # given: A and C are 10 km apart, B is next to A; C is fixed at 9:00, B at 11:00, A free
    a = SolverStop(latitude=45.76, longitude=4.84, start=None, service=1800, fixed=False)
    b = SolverStop(latitude=45.761, longitude=4.841, start=11 * 3600, service=1800, fixed=True)
    c = SolverStop(latitude=45.85, longitude=4.84, start=9 * 3600, service=1800, fixed=True)
    # when
    route = plan_route([a, b, c], SPEED_KMH)
    # then: C first (9:00), then A and B next to each other
    assert route.order[0] == 2 and set(route.order[1:]) == {0, 1}
    assert on_time(route.order, [a, b, c])


def test_appointments_that_cannot_all_be_reached_keep_the_planned_day_with_a_note() -> None:
    # given: two fixed appointments 100 km apart, 30 minutes apart
    near = SolverStop(latitude=45.76, longitude=4.84, start=9 * 3600, service=600, fixed=True)
    far = SolverStop(latitude=46.66, longitude=4.84, start=9 * 3600 + 1800, service=600, fixed=True)
    # when
    route = plan_route([far, near], SPEED_KMH)
    # then
    assert route.order == [1, 0] and not route.optimized and route.note and "40 km/h" in route.note
    assert route.total == route.planned_total


def test_a_single_stop_is_its_own_route() -> None:
    # when
    route = plan_route([SolverStop(latitude=45.76, longitude=4.84, start=None, service=600, fixed=False)], SPEED_KMH)
    # then
    assert (route.order, route.total, route.legs) == ([0], 0.0, [0.0])
