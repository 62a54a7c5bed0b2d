"""Field-level evaluation of extracted articles against the publishers' JATS.

The measures (`measures`) and the field reader (`fields`) are pure and usable from any tool;
`cli` runs the whole evaluation (./evaluate-extraction.sh).
"""
