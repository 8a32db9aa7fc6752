"""Where training time goes: seconds per graph node, printed after `make train`.

Rasa runs a training graph of nodes (featurizers' training and processing of the training data,
classifiers, policies, the steps that read the data). `node_timings()` times each node's call,
including Rasa's own hooks around it (fingerprinting and caching), while a training runs;
`summary()` turns that into the lines `make train` prints. The rest of a training's wall time
(reading the project, building the graph, packing the model archive) is shown as "outside the
graph nodes".
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any


@contextmanager
def node_timings(node_class: Any = None) -> Iterator[dict[str, float]]:
    """Time every call of a graph node (by node name) while the block runs.

    `node_class` is Rasa's `GraphNode` unless a test gives another class with `_node_name`.
    """
    if node_class is None:
        from rasa.engine.graph import GraphNode

        node_class = GraphNode
    original: Callable[..., Any] = node_class.__call__
    seconds: dict[str, float] = {}

    def timed(self: Any, *inputs: Any) -> Any:
        started = time.perf_counter()
        try:
            return original(self, *inputs)
        finally:
            name = str(getattr(self, "_node_name", "?"))
            seconds[name] = seconds.get(name, 0.0) + time.perf_counter() - started

    node_class.__call__ = timed
    try:
        yield seconds
    finally:
        node_class.__call__ = original


def summary(seconds: Mapping[str, float], total_s: float, *, at_least_s: float = 1.0) -> list[str]:
    """Lines for the slowest nodes (at least `at_least_s` each), slowest first, and the rest."""
    shown = sorted(((s, name) for name, s in seconds.items() if s >= at_least_s), reverse=True)
    lines = [f"  {s:6.1f} s  {name}" for s, name in shown]
    small = sum(s for s in seconds.values() if s < at_least_s)
    if small:
        lines.append(f"  {small:6.1f} s  {sum(1 for s in seconds.values() if s < at_least_s)} other nodes")
    outside = max(total_s - sum(seconds.values()), 0.0)
    lines.append(f"  {outside:6.1f} s  outside the graph nodes (reading the project, building the graph, packing)")
    return ["Where the training time went:", *lines]
