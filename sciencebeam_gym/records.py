"""The TFRecord contract between preprocessing and every reader: names, encoding, framing.

Preprocessing writes, and the trainer, evaluation, inspection, tests and benchmarks read,
gzipped TFRecord shards of `tf.train.Example` records with four bytes features (as in the
original toolkit): the page's and annotation's URIs, and both images as RGB PNG (the annotation
in the colour map's colours, black background). A finished preprocessing folder holds
`COMPLETION_REPORT_NAME`, written last.

Workers only ever build one message shape (a map of bytes features), so the protobuf wire format
is written by hand here; that keeps TensorFlow's start-up out of every pipeline worker. The
records are the standard wire format: `tf.io.parse_single_example` reads them (tested), and
records written by TensorFlow decode here too.
"""

from __future__ import annotations

import gzip
import struct
from collections.abc import Iterable, Iterator, Mapping

INPUT_URI = "input_uri"
ANNOTATION_URI = "annotation_uri"
INPUT_IMAGE = "input_image"
ANNOTATION_IMAGE = "annotation_image"
FEATURE_KEYS = (INPUT_URI, ANNOTATION_URI, INPUT_IMAGE, ANNOTATION_IMAGE)
# Features a reader may do without (records made by other tools can lack the URIs).
OPTIONAL_FEATURE_KEYS = (INPUT_URI, ANNOTATION_URI)

# tf.data's name for the shards' compression, and the shard names preprocessing writes.
COMPRESSION = "GZIP"
SHARD_SUFFIX = ".tfrecord.gz"
# The preprocessing report, written last: a folder without it holds no complete run.
COMPLETION_REPORT_NAME = "preprocess-report.json"
# The side of the records' images and so of the model's input, unless a width and height are
# given (IMAGE_WIDTH / IMAGE_HEIGHT, --image_width / --image_height).
DEFAULT_IMAGE_SIZE = 256
# The trainer flag that accepts record folders without a completion report.
ALLOW_INCOMPLETE_FLAG = "--allow_incomplete_data"

_LENGTH_DELIMITED = 2


class RecordError(ValueError):
    """A record or TFRecord file that cannot be decoded; the message says where."""


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _field(number: int, payload: bytes) -> bytes:
    """A length-delimited protobuf field."""
    return _varint(number << 3 | _LENGTH_DELIMITED) + _varint(len(payload)) + payload


def encode_example(features: Mapping[str, bytes | str]) -> bytes:
    """Serialise a `tf.train.Example` whose features are single bytes values (str as UTF-8)."""
    entries = []
    for key, value in features.items():
        data = value.encode("utf-8") if isinstance(value, str) else bytes(value)
        bytes_list = _field(1, data)  # BytesList.value
        feature = _field(1, bytes_list)  # Feature.bytes_list
        entry = _field(1, key.encode("utf-8")) + _field(2, feature)  # map entry: key, value
        entries.append(_field(1, entry))  # Features.feature
    return _field(1, b"".join(entries))  # Example.features


def encode_pair(input_uri: str, annotation_uri: str, input_png: bytes, annotation_png: bytes):
    """The serialised record of one page/annotation pair (both images PNG-encoded)."""
    return encode_example(
        {
            INPUT_URI: input_uri,
            ANNOTATION_URI: annotation_uri,
            INPUT_IMAGE: input_png,
            ANNOTATION_IMAGE: annotation_png,
        }
    )


def _read_varint(data: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= len(data):
            raise RecordError("truncated varint")
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7


def _fields(data: bytes) -> Iterator[tuple[int, int, object]]:
    """(field number, wire type, value) of a message; value is bytes for length-delimited."""
    pos = 0
    while pos < len(data):
        tag, pos = _read_varint(data, pos)
        number, wire_type = tag >> 3, tag & 7
        if wire_type == 0:
            value, pos = _read_varint(data, pos)
        elif wire_type == 1:
            value, pos = data[pos : pos + 8], pos + 8
        elif wire_type == 2:
            length, pos = _read_varint(data, pos)
            value, pos = data[pos : pos + length], pos + length
        elif wire_type == 5:
            value, pos = data[pos : pos + 4], pos + 4
        else:
            raise RecordError(f"unsupported protobuf wire type {wire_type}")
        if pos > len(data):
            raise RecordError("truncated protobuf message")
        yield number, wire_type, value


def _decode_feature(data: bytes) -> list:
    """The values of a `tf.train.Feature`: bytes, int or float, as a list."""
    values: list = []
    for kind, _, payload in _fields(data):
        for number, wire_type, item in _fields(payload):  # type: ignore[arg-type]
            if number != 1:
                continue
            if kind == 1:
                values.append(bytes(item))  # type: ignore[arg-type]
            elif kind == 2:
                # Packed (wire type 2) or single (wire type 5) little-endian floats.
                values.extend(struct.unpack(f"<{len(item) // 4}f", item))  # type: ignore[arg-type]
            elif kind == 3 and wire_type == 0:
                values.append(item if item < 1 << 63 else item - (1 << 64))  # type: ignore[operator]
            elif kind == 3:
                pos, packed = 0, item
                while pos < len(packed):  # type: ignore[arg-type]
                    number_value, pos = _read_varint(packed, pos)  # type: ignore[arg-type]
                    values.append(
                        number_value if number_value < 1 << 63 else number_value - (1 << 64)
                    )
    return values


def decode_example(data: bytes) -> dict[str, list]:
    """The features of a serialised `tf.train.Example` as {key: [values]}."""
    features: dict[str, list] = {}
    for number, _, payload in _fields(data):
        if number != 1:
            continue
        for entry_number, _, entry in _fields(payload):  # type: ignore[arg-type]
            if entry_number != 1:
                continue
            key, feature = "", b""
            for part_number, _, part in _fields(entry):  # type: ignore[arg-type]
                if part_number == 1:
                    key = bytes(part).decode("utf-8")  # type: ignore[arg-type]
                elif part_number == 2:
                    feature = part  # type: ignore[assignment]
            features[key] = _decode_feature(feature)
    return features


def _masked_crc32c(data: bytes) -> int:
    import google_crc32c

    crc = google_crc32c.value(data)
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def frame_record(data: bytes) -> bytes:
    """One TFRecord frame: length, its CRC, the data, its CRC."""
    length = struct.pack("<Q", len(data))
    return (
        length
        + struct.pack("<I", _masked_crc32c(length))
        + data
        + struct.pack("<I", _masked_crc32c(data))
    )


def iter_framed_records(data: bytes, source: str = "<tfrecords>") -> Iterator[bytes]:
    """The records of uncompressed TFRecord file content, checking each frame's CRC."""
    pos = 0
    while pos < len(data):
        if pos + 12 > len(data):
            raise RecordError(f"{source}: truncated record header at byte {pos}")
        length_bytes = data[pos : pos + 8]
        (length,) = struct.unpack("<Q", length_bytes)
        (length_crc,) = struct.unpack("<I", data[pos + 8 : pos + 12])
        if length_crc != _masked_crc32c(length_bytes):
            raise RecordError(f"{source}: corrupt record length at byte {pos}")
        start, end = pos + 12, pos + 12 + length
        if end + 4 > len(data):
            raise RecordError(f"{source}: truncated record at byte {pos}")
        (data_crc,) = struct.unpack("<I", data[end : end + 4])
        record = data[start:end]
        if data_crc != _masked_crc32c(record):
            raise RecordError(f"{source}: corrupt record data at byte {pos}")
        yield record
        pos = end + 4


def read_tfrecord_file(path: str) -> Iterator[bytes]:
    """The records of a TFRecord file (local or gs://), gunzipped when the name ends in .gz."""
    from sciencebeam_gym.storage import fs

    data = fs.read_bytes(path)
    if path.endswith(".gz") or data[:2] == b"\x1f\x8b":
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError) as error:
            raise RecordError(f"{path}: not a complete gzip file ({error})") from error
    yield from iter_framed_records(data, source=path)


class IncompleteDataError(ValueError):
    """Record files in a folder without a completion report; the message names the folders."""


def folders_without_report(files: Iterable[str]) -> list[str]:
    """The folders of `files` (sorted, each once) that hold no completion report."""
    from sciencebeam_gym.storage import fs

    folders = sorted({fs.dirname(path) for path in files})
    return [folder for folder in folders if not fs.exists(fs.join(folder, COMPLETION_REPORT_NAME))]


def check_completion_reports(files: Iterable[str], flag: str = ALLOW_INCOMPLETE_FLAG) -> None:
    """IncompleteDataError naming every folder of `files` that has no completion report."""
    missing = folders_without_report(files)
    if missing:
        listed = "\n".join(f"  {folder}" for folder in missing)
        raise IncompleteDataError(
            f"no {COMPLETION_REPORT_NAME} in {len(missing)} input folder(s), so their "
            f"preprocessing run did not finish (or the records were made elsewhere):\n{listed}\n"
            f"re-run ./preprocess.sh, or pass {flag} to use the records as they are"
        )
