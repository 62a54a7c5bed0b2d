"""The document of a request: the body itself, or a multipart form's `input` (or `file`) part,
with the form's other fields (GROBID's `consolidateHeader`, `start`, `end`, ...).

The body is already in memory (read within --max_bytes), so the form is parsed from it with
python-multipart's parser and nothing is spooled to a temporary file.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from python_multipart.multipart import MultipartParser, parse_options_header

from sciencebeam_gym.service.limits import BAD_REQUEST, NO_INPUT, ServiceError

FILE_FIELDS = ("input", "file")


@dataclass
class Part:
    name: str
    filename: str | None
    content_type: str
    data: bytes


@dataclass
class Upload:
    """The document sent (bytes and its name) and the form's text fields (all values)."""

    data: bytes
    filename: str
    fields: dict[str, list[str]] = field(default_factory=dict)

    def field(self, name: str, default: str = "") -> str:
        values = self.fields.get(name)
        return values[0] if values else default


def parse_multipart(body: bytes, boundary: bytes) -> list[Part]:
    """The parts of a multipart/form-data body; ServiceError (400) when it is malformed."""
    parts: list[Part] = []
    current: dict = {}
    header: dict = {"field": b"", "value": b""}

    def on_part_begin():
        current.clear()
        current.update(headers={}, data=[])

    def on_header_field(data, start, end):
        header["field"] += data[start:end]

    def on_header_value(data, start, end):
        header["value"] += data[start:end]

    def on_header_end():
        current["headers"][header["field"].decode("latin-1").lower()] = header["value"]
        header.update(field=b"", value=b"")

    def on_part_data(data, start, end):
        current["data"].append(data[start:end])

    def on_part_end():
        parts.append(_part(current["headers"], b"".join(current["data"])))

    callbacks = {
        "on_part_begin": on_part_begin,
        "on_header_field": on_header_field,
        "on_header_value": on_header_value,
        "on_header_end": on_header_end,
        "on_part_data": on_part_data,
        "on_part_end": on_part_end,
    }
    try:
        parser = MultipartParser(boundary, callbacks)
        parser.write(body)
        parser.finalize()
    except Exception as error:  # python-multipart raises several types for a bad form
        raise ServiceError(BAD_REQUEST, f"the multipart form does not parse ({error})") from error
    return parts


def _part(headers: dict[str, bytes], data: bytes) -> Part:
    _disposition, options = parse_options_header(headers.get("content-disposition", b""))
    filename = options.get(b"filename")
    return Part(
        name=options.get(b"name", b"").decode("utf-8", "replace"),
        filename=filename.decode("utf-8", "replace") if filename is not None else None,
        content_type=headers.get("content-type", b"").decode("latin-1"),
        data=data,
    )


def read_upload(body: bytes, content_type: str) -> Upload:
    """The document of a request: the `input` (or `file`) part of a multipart form, else the
    body itself (a PDF or image posted as it is)."""
    media_type, options = parse_options_header(content_type or "")
    if media_type != b"multipart/form-data":
        return Upload(body, "upload")
    boundary = options.get(b"boundary")
    if not boundary:
        raise ServiceError(BAD_REQUEST, "a multipart/form-data body needs a boundary parameter")
    parts = parse_multipart(body, boundary)
    fields: dict[str, list[str]] = {}
    document = None
    for part in parts:
        if part.name in FILE_FIELDS and document is None:
            document = part
        elif part.filename is None:
            fields.setdefault(part.name, []).append(part.data.decode("utf-8", "replace"))
    if document is None:
        names = ", ".join(sorted({p.name for p in parts})) or "none"
        raise ServiceError(
            NO_INPUT,
            f"the form has no document: send it as the field 'input' (or 'file'); "
            f"fields sent: {names}",
        )
    return Upload(document.data, document.filename or document.name, fields)
