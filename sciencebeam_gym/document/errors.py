"""The error a document is skipped with: a short reason for the report, and the detail."""


class SkipError(ValueError):
    """An input that cannot be used; `reason` is a short, report-friendly cause."""

    def __init__(self, reason: str, detail: str = ""):
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail
