"""Route planning (A8) as plain functions: the day's stops, great-circle distances turned
into driving times at a stated speed, and a visiting order from VROOM (``pyvroom``) that
shortens the route while arriving in time at fixed appointments.

The route is open: it starts at its first stop and ends at its last (no depot is known).
VROOM minimises the cost matrix (metres); the duration matrix (seconds at the stated speed)
and each fixed appointment's time window ``[start, start]`` (arriving early means waiting)
constrain it. Stops that need not be at a set time may be visited any time. VROOM is a
heuristic, and an open route's start matters to it: it is solved once from "anywhere" (a
dummy location at zero distance from every stop) and once starting at each of the first
:data:`MAX_STARTS` stops, and the shortest order wins (on random days of up to 7 stops this
found the brute-force optimum every time, where one solve missed it on 2% of days by up to
a third; see bench/RESULTS.md).

The answer is never worse than the day as planned (by start time): when the planned order is
feasible and not longer, it is kept; when the solver cannot place every stop (fixed
appointments too close for the distance between them at the stated speed), the planned
order is kept and the answer says why.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence

import vroom

from fiche.plugins.activities.services.geo import distance_m

__all__ = ["DEFAULT_SERVICE_S", "Route", "SolverStop", "feasible", "path_length", "plan_route", "planned_order"]

# How long a visit lasts when its stop says nothing of its end.
DEFAULT_SERVICE_S = 30 * 60
# VROOM's most thorough search: a day has at most a few dozen stops, solved in milliseconds.
EXPLORATION_LEVEL = 5
# Starting stops tried (by planned time): each is one more solve.
MAX_STARTS = 12
START_BUDGET = 120  # stops x starts: 12 starts up to 10 stops, 3 at 40, 1 from 60
# Past this many stops, a lighter search (the thorough one grows too slow for a request).
THOROUGH_UP_TO = 30


@dataclasses.dataclass(frozen=True, slots=True)
class SolverStop:
    """A stop with coordinates; times in seconds from the start of the day."""

    latitude: float
    longitude: float
    start: int | None  # the planned start, if any
    service: int  # how long it lasts
    fixed: bool  # the start may not move: arrive by then (wait if early)


@dataclasses.dataclass(frozen=True, slots=True)
class Route:
    order: list[int]  # indexes into the stops, in visiting order
    legs: list[float]  # metres from the previous stop (0 for the first)
    total: float
    planned_total: float
    optimized: bool  # the order is the solver's (False: the planned order was kept)
    note: str | None  # why the planned order was kept, when it was for a reason
    arrivals: list[int]  # estimated arrival at each stop of ``order``, seconds from the start of the day


def distances(stops: Sequence[SolverStop]) -> list[list[float]]:
    return [[distance_m(a.latitude, a.longitude, b.latitude, b.longitude) for b in stops] for a in stops]


def path_length(order: Sequence[int], matrix: Sequence[Sequence[float]]) -> float:
    return sum(matrix[a][b] for a, b in zip(order, order[1:]))


def planned_order(stops: Sequence[SolverStop]) -> list[int]:
    """The order of the day as planned: by start time, stops without one last."""
    return sorted(range(len(stops)), key=lambda index: (stops[index].start is None, stops[index].start or 0, index))


def _travel(metres: float, speed: float) -> int:
    return math.ceil(metres / speed)


def arrivals(order: Sequence[int], stops: Sequence[SolverStop], matrix: Sequence[Sequence[float]], speed: float) -> list[int]:
    """Estimated arrival at each stop of ``order``: the day begins at the first stop's start
    (the earliest planned start when it has none); at a fixed stop, work starts at its time."""
    if not order:
        return []
    starts = [stop.start for stop in stops if stop.start is not None]
    first = stops[order[0]]
    clock = first.start if first.start is not None else (min(starts) if starts else 0)
    times: list[int] = []
    previous: int | None = None
    for index in order:
        stop = stops[index]
        if previous is not None:
            clock += _travel(matrix[previous][index], speed)
        times.append(clock)
        begin = max(clock, stop.start) if stop.fixed and stop.start is not None else clock
        clock = begin + stop.service
        previous = index
    return times


def feasible(order: Sequence[int], stops: Sequence[SolverStop], matrix: Sequence[Sequence[float]], speed: float) -> bool:
    """Whether ``order`` reaches every fixed stop by its start, leaving the day's first stop
    early enough (the route may start at any time)."""
    if not order:
        return True
    # The latest start that keeps every fixed stop in time: walk the order, carrying the
    # slack; an open start lets the first fixed stop be reached exactly on time.
    clock: int | None = None
    previous: int | None = None
    for index in order:
        stop = stops[index]
        if previous is not None and clock is not None:
            clock += _travel(matrix[previous][index], speed)
        if stop.fixed and stop.start is not None:
            if clock is not None and clock > stop.start:
                return False
            clock = stop.start if clock is None else max(clock, stop.start)
        if clock is not None:
            clock += stop.service
        previous = index
    return True


def _solve(stops: Sequence[SolverStop], matrix: Sequence[Sequence[float]], speed: float) -> list[int] | None:
    """The shortest of VROOM's orders from anywhere and from each of the first stops, or
    None when it cannot place every stop."""
    # Each start is one more solve: all of a usual day's first stops, fewer on long days.
    starts = [None, *planned_order(stops)[: min(MAX_STARTS, max(1, START_BUDGET // len(stops)))]]
    orders = [order for start in starts if (order := _solve_from(stops, matrix, speed, start)) is not None]
    return min(orders, key=lambda order: path_length(order, matrix)) if orders else None


def _solve_from(stops: Sequence[SolverStop], matrix: Sequence[Sequence[float]], speed: float, start: int | None) -> list[int] | None:
    """VROOM's order for a route starting at stop ``start`` (anywhere when None)."""
    size = len(stops) + 1  # location 0: the open start and end
    costs = [[0] * size for _ in range(size)]
    durations = [[0] * size for _ in range(size)]
    for a in range(len(stops)):
        for b in range(len(stops)):
            costs[a + 1][b + 1] = round(matrix[a][b])
            durations[a + 1][b + 1] = _travel(matrix[a][b], speed)
    problem = vroom.Input()
    problem.set_durations_matrix("car", durations)
    problem.set_costs_matrix("car", costs)
    problem.add_vehicle(vroom.Vehicle(1, start=0, end=0) if start is None else vroom.Vehicle(1, start=start + 1))
    for index, stop in enumerate(stops):
        windows = [vroom.TimeWindow(stop.start, stop.start)] if stop.fixed and stop.start is not None else []
        problem.add_job(vroom.Job(index + 1, location=index + 1, default_service=stop.service, time_windows=windows))
    level = EXPLORATION_LEVEL if len(stops) <= THOROUGH_UP_TO else 3
    solution = problem.solve(exploration_level=level, nb_threads=1)
    routes = solution.routes
    order = [int(job) - 1 for job in routes[routes["type"] == "job"]["id"].tolist()]
    return order if len(order) == len(stops) else None


def plan_route(stops: Sequence[SolverStop], speed_kmh: float) -> Route:
    """The visiting order of ``stops`` (see the module docstring)."""
    speed = speed_kmh * 1000 / 3600
    matrix = distances(stops)
    planned = planned_order(stops)
    planned_total = path_length(planned, matrix)
    solved = _solve(stops, matrix, speed) if len(stops) > 1 else planned
    note: str | None = None
    if solved is None:
        order, optimized = planned, False
        note = f"The fixed appointments cannot all be reached in time at {speed_kmh:g} km/h in any order: the day is kept as planned."
    elif path_length(solved, matrix) < planned_total - 0.5 or not feasible(planned, stops, matrix, speed):
        order, optimized = solved, True
    else:
        order, optimized = planned, len(stops) > 1
    legs = [0.0] + [matrix[a][b] for a, b in zip(order, order[1:])]
    return Route(order, legs, sum(legs), planned_total, optimized, note, arrivals(order, stops, matrix, speed))
