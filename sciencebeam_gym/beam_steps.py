"""Beam steps that several pipelines share (imports Beam: load it only where a pipeline runs)."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import apache_beam as beam


def each_then_report(
    pipeline: beam.Pipeline,
    items: Iterable,
    list_label: str,
    step_label: str,
    do_fn: beam.DoFn,
    report: Callable,
    *report_args,
):
    """`do_fn` on every item, then `report(all_results, *report_args)` once, as the last step.

    Reshuffle keeps the items from being fused with Create, so they spread over the workers; the
    report comes last, so a run that fails part-way leaves no report that looks whole.
    """
    return (
        pipeline
        | list_label >> beam.Create(items)
        | "Spread" >> beam.Reshuffle()
        | step_label >> beam.ParDo(do_fn)
        | "CollectResults" >> beam.combiners.ToList()
        | "WriteReport" >> beam.Map(report, *report_args)
    )
