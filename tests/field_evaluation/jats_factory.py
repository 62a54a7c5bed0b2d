"""Small JATS articles made in code for the field evaluation tests."""

from __future__ import annotations

from xml.sax.saxutils import escape

TITLE = "Conspecific recognition in newly weaned grey seals"
ABSTRACT = (
    "Recognising conspecifics is a crucial ability for many species. We studied pups in pens "
    "and counted aggressive interactions between familiar and stranger pairs."
)
AUTHORS = (("Kelly J.", "Robinson"), ("Sean D.", "Twiss"), ("Neil", "Hazon"))
AFFILIATIONS = (
    "Sea Mammal Research Unit, University of St Andrews, St Andrews, UK",
    "School of Biological and Biomedical Sciences, Durham University, Durham, UK",
)
KEYWORDS = ("Aggression", "Grey seal", "Oxytocin")
SECTIONS = ("Introduction", "Methods", "Results", "Discussion")
REFERENCES = (
    "Barnard CJ, Burk T (1979) Dominance hierarchies and the evolution of individual recognition. "
    "J Theor Biol 81:65-73",
    "Cheney DL, Seyfarth RM (1980) Vocal recognition in free-ranging vervet monkeys. "
    "Anim Behav 28:362-367",
    "Tibbetts EA, Dale J (2007) Individual recognition: it is good to be different. "
    "Trends Ecol Evol 22:529-537",
)


def article_xml(
    title: str = TITLE,
    abstract: str = ABSTRACT,
    authors=AUTHORS,
    affiliations=AFFILIATIONS,
    keywords=KEYWORDS,
    sections=SECTIONS,
    references=REFERENCES,
    namespace: bool = False,
) -> bytes:
    """A JATS article with the given fields (affiliations and references carry labels)."""
    contribs = "".join(
        f'<contrib contrib-type="author"><name><surname>{escape(surname)}</surname>'
        f"<given-names>{escape(given)}</given-names></name></contrib>"
        for given, surname in authors
    )
    affs = "".join(
        f'<aff id="aff{i}"><label>{i}</label>{escape(text)}</aff>'
        for i, text in enumerate(affiliations, start=1)
    )
    kwds = "".join(f"<kwd>{escape(k)}</kwd>" for k in keywords)
    kwd_group = f"<kwd-group><title>Keywords</title>{kwds}</kwd-group>" if keywords else ""
    secs = "".join(f"<sec><title>{escape(s)}</title><p>Text.</p></sec>" for s in sections)
    refs = "".join(
        f'<ref id="r{i}"><label>{i}</label><mixed-citation>{escape(r)}</mixed-citation></ref>'
        for i, r in enumerate(references, start=1)
    )
    xmlns = ' xmlns="http://jats.nlm.nih.gov/ns"' if namespace else ""
    return (
        f"<?xml version='1.0' encoding='utf-8'?><article{xmlns}><front><article-meta>"
        f"<title-group><article-title>{escape(title)}</article-title></title-group>"
        f"<contrib-group>{contribs}</contrib-group>{affs}"
        f"<abstract><p>{escape(abstract)}</p></abstract>{kwd_group}"
        f"</article-meta></front><body>{secs}</body>"
        f"<back><ref-list><title>References</title>{refs}</ref-list></back></article>"
    ).encode()
