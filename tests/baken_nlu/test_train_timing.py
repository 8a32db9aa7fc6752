"""The training profile: each graph node's time is counted, the class is restored afterwards."""

from __future__ import annotations

import time
from typing import Any

import pytest

from baken_nlu.train_timing import node_timings, summary


class FakeNode:
    def __init__(self, name: str, sleep_s: float) -> None:
        self._node_name, self.sleep_s = name, sleep_s

    def __call__(self, *inputs: Any) -> tuple[str, Any]:
        time.sleep(self.sleep_s)
        return self._node_name, inputs


def test_every_node_call_is_timed_by_name_and_the_class_is_restored() -> None:
    original = FakeNode.__call__
    with node_timings(FakeNode) as seconds:
        slow, fast = FakeNode("train_DIETClassifier", 0.05), FakeNode("run_tokenizer", 0.0)
        assert slow("x") == ("train_DIETClassifier", ("x",))
        fast()
        fast()
    assert FakeNode.__call__ is original
    assert seconds["train_DIETClassifier"] >= 0.05
    assert set(seconds) == {"train_DIETClassifier", "run_tokenizer"}


def test_a_failing_node_is_still_timed_and_the_class_restored() -> None:
    class Broken(FakeNode):
        def __call__(self, *inputs: Any) -> tuple[str, Any]:
            raise RuntimeError("boom")

    original = Broken.__call__
    with node_timings(Broken) as seconds, pytest.raises(RuntimeError):
        Broken("train_x", 0)()
    assert "train_x" in seconds and Broken.__call__ is original


def test_summary_lists_slow_nodes_first_and_the_time_outside_the_graph() -> None:
    lines = summary({"train_DIET": 60.0, "train_TED": 10.0, "run_a": 0.2, "run_b": 0.3}, 100.0)
    assert lines[0] == "Where the training time went:"
    assert "train_DIET" in lines[1] and "train_TED" in lines[2]
    assert "0.5 s  2 other nodes" in lines[3]
    assert "29.5 s  outside the graph nodes" in lines[4]


def test_the_real_graph_node_class_is_patched_and_restored() -> None:
    from rasa.engine.graph import GraphNode

    original = GraphNode.__call__
    with node_timings():
        assert GraphNode.__call__ is not original
    assert GraphNode.__call__ is original
