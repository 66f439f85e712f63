"""The timer behind `bpfast bench`: backends timed side by side, round by round."""

from bpfast import bench


def test_median_times_interleaves_the_rounds_of_its_functions():
    """Round r times every function before round r + 1 starts (after each one's warm-up), so a
    slow spell of a shared machine falls on every backend alike; ``before`` runs before each round."""
    calls = []
    fns = [lambda: calls.append("f"), lambda: calls.append("g")]
    before = [lambda: calls.append("prepare f"), None]
    medians = bench.median_times(fns, repeats=3, min_time=0, before=before, pause=0)
    assert len(medians) == 2 and all(m >= 0 for m in medians)
    warm_up = ["prepare f", "f", "f", "g", "g"]
    assert calls == warm_up + ["prepare f", "f", "f", "g", "g"] * 3    # an untimed call, then the round


def test_median_time_is_median_times_of_one_function():
    calls = []
    assert bench.median_time(lambda: calls.append(1), repeats=5, min_time=0) >= 0
    assert len(calls) == 2 + 5 * 2                      # warm-up, first timing, 5 x (untimed + timed)
