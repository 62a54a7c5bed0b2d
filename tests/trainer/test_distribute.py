"""Which process of a cluster writes the shared outputs (TF_CONFIG as Vertex AI sets it)."""

from __future__ import annotations

import json

from sciencebeam_gym.trainer import distribute


def test_is_chief():
    def config(task_type, index, cluster):
        return {
            "TF_CONFIG": json.dumps(
                {"cluster": cluster, "task": {"type": task_type, "index": index}}
            )
        }

    workers_only = {"worker": ["a:1", "b:2"]}
    with_chief = {"chief": ["c:0"], "worker": ["a:1", "b:2"]}
    assert distribute.is_chief({})
    assert distribute.is_chief(config("worker", 0, workers_only))
    assert not distribute.is_chief(config("worker", 1, workers_only))
    assert distribute.is_chief(config("chief", 0, with_chief))
    assert not distribute.is_chief(config("worker", 0, with_chief))
