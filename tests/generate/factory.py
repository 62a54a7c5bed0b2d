"""Tiny PDFs and JATS XML made in code for the generate tests (hand-written PDF bytes)."""

from __future__ import annotations

PAGE_WIDTH = 612
PAGE_HEIGHT = 792


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def pdf_bytes(
    lines: list[tuple[float, float, float, str]] | None = None,
    pages: int = 1,
    encrypt: bool = False,
    draw_only: bool = False,
    rotate: int = 0,
    page_size: tuple[float, float] = (PAGE_WIDTH, PAGE_HEIGHT),
) -> bytes:
    """A PDF whose pages show `lines` (x, baseline y from the bottom, size, text) in Helvetica.

    `draw_only` gives pages with a filled rectangle and no text (like a scan); `encrypt` adds a
    standard security handler whose user password is not empty, so the file needs a password.
    """
    lines = lines or []
    if draw_only:
        content = "0.5 g 72 500 300 200 re f"
    else:
        parts = ["BT"]
        for x, y, size, text in lines:
            parts.append(f"/F1 {size} Tf 1 0 0 1 {x} {y} Tm ({_escape(text)}) Tj")
        parts.append("ET")
        content = "\n".join(parts)
    stream = content.encode("latin-1")
    objects: list[bytes] = []
    page_ids = [4 + 2 * i for i in range(pages)]
    kids = " ".join(f"{i} 0 R" for i in page_ids)
    objects.append(b"<< /Type /Catalog /Pages 2 0 R >>")
    objects.append(f"<< /Type /Pages /Kids [{kids}] /Count {pages} >>".encode())
    objects.append(
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"
    )
    for page_id in page_ids:
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {page_size[0]} {page_size[1]}] /Rotate {rotate} "
            f"/Resources << /Font << /F1 3 0 R >> >> /Contents {page_id + 1} 0 R >>".encode()
        )
        objects.append(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
    trailer_extra = ""
    if encrypt:
        objects.append(
            b"<< /Filter /Standard /V 1 /R 2 /P -44 "
            b"/O <" + b"41" * 32 + b"> /U <" + b"42" * 32 + b"> >>"
        )
        trailer_extra = f" /Encrypt {len(objects)} 0 R /ID [<{'ab' * 16}> <{'ab' * 16}>]"
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for offset in offsets:
        out += f"{offset:010d} 00000 n \n".encode()
    out += (
        f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R{trailer_extra} >>\n"
        f"startxref\n{xref}\n%%EOF\n"
    ).encode()
    return bytes(out)


TITLE = "Glacier Melt Patterns in Northern Valleys"
AUTHORS = [("Anna", "Berg"), ("Tomas", "Lind")]
AFFILIATION = "Department of Earth Science, Example University, Oslo, Norway"
ABSTRACT = [
    "We measured glacier melt in twelve northern valleys over ten summers",
    "and found that melt rates doubled where dust covered the ice surface,",
    "while shaded slopes kept their mass through the whole period.",
]
HEADING = "Introduction"
PARAGRAPH = [
    "Glaciers respond to warming in ways that depend on local shading and",
    "surface dust. Here we describe field observations from northern valleys.",
]


def article_lines() -> list[tuple[float, float, float, str]]:
    """The page lines of the small test article (title, authors, affiliation, abstract, ...)."""
    lines = [(72, 720, 18, TITLE)]
    lines.append((72, 690, 11, "Anna Berg1, Tomas Lind2"))
    lines.append((72, 672, 9, "1 " + AFFILIATION))
    y = 640.0
    for text in ABSTRACT:
        lines.append((72, y, 10, text))
        y -= 12
    y -= 14
    lines.append((72, y, 12, "1. " + HEADING))
    y -= 16
    for text in PARAGRAPH:
        lines.append((72, y, 10, text))
        y -= 12
    return lines


def article_xml(doctype: bool = True, extra_front: str = "") -> bytes:
    """JATS XML of the small test article; with an external DOCTYPE that must not be fetched."""
    contribs = "".join(
        f'<contrib contrib-type="author"><name><surname>{surname}</surname>'
        f'<given-names>{given}</given-names></name><xref ref-type="aff">{n}</xref></contrib>'
        for n, (given, surname) in enumerate(AUTHORS, start=1)
    )
    head = (
        '<!DOCTYPE article PUBLIC "-//NLM//DTD JATS (Z39.96) Journal Publishing DTD v1.1//EN" '
        '"http://jats.nlm.nih.gov/publishing/1.1/JATS-journalpublishing1.dtd">\n'
        if doctype
        else ""
    )
    text = f"""<?xml version="1.0" encoding="UTF-8"?>
{head}<article xmlns:xlink="http://www.w3.org/1999/xlink" article-type="research-article">
<front><article-meta>
<title-group><article-title>{TITLE}</article-title></title-group>
<contrib-group>{contribs}</contrib-group>
<aff id="aff1"><label>1</label>{AFFILIATION}</aff>
<abstract><p>{" ".join(ABSTRACT)}</p></abstract>{extra_front}
</article-meta></front>
<body><sec><title>{HEADING}</title><p>{" ".join(PARAGRAPH)}</p></sec></body>
<back><ref-list><title>References</title><ref><mixed-citation>Nobody A. A paper that is not
on the first page. Journal of Nothing. 2001.</mixed-citation></ref></ref-list></back>
</article>"""
    return text.encode("utf-8")


def publisher_xml(name: str) -> bytes:
    """`article_xml()` whose journal-meta names `name` as the publisher."""
    return article_xml().replace(
        b"<front>",
        b"<front><journal-meta><publisher><publisher-name>"
        + name.encode()
        + b"</publisher-name></publisher></journal-meta>",
        1,
    )
