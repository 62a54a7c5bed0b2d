"""Real-looking article text from a built-in vocabulary: words, sentences, names, places, DOIs.

Every function takes a `random.Random`, so a page's text depends on its seed only.
"""

from __future__ import annotations

import random


def _words(text: str, separator: str | None = None) -> list[str]:
    return text.split(separator)


FUNCTION_WORDS = _words(
    "the the the of of of and and in in to a a with for for on by by from as that that "
    "which were was is are between among under within across during after than these this "
    "its their our we we both each"
)

NOUNS = _words(
    "analysis approach assay activity binding cell cells cohort concentration condition "
    "correlation cortex data density deletion dynamics effect effects enzyme evidence "
    "experiment expression factor feature field framework function gene genes genome growth "
    "hypothesis image infection inhibition interaction kinase layer level levels mechanism "
    "membrane method methods model models mutation network neurons outcome pathway patients "
    "performance phase population pressure process protein proteins receptor region regions "
    "regulation response responses risk sample samples sequence sequencing signal signalling "
    "species structure subset surface system temperature therapy tissue transcription "
    "treatment variant variation velocity voltage abundance accuracy algorithm architecture "
    "baseline biomarker boundary calibration capacity catalyst coefficient component "
    "compound constraint deficiency diversity efficiency emission estimate exposure "
    "fluorescence frequency gradient habitat heterogeneity incidence intensity kinetics "
    "lattice ligand lineage mass matrix metabolism microscopy mortality morphology "
    "nanoparticle nucleus oscillation particle peptide phenotype plasticity polymer "
    "prevalence probability quantification resolution scaffold sensitivity simulation "
    "spectrum stability stimulus substrate survival synthesis threshold trajectory "
    "transport uncertainty yield"
)

ADJECTIVES = _words(
    "adaptive anatomical biological cellular central chronic clinical comparative "
    "computational conserved critical cross-sectional cumulative differential direct distinct "
    "dominant dynamic early electrical empirical endogenous environmental experimental "
    "functional genetic global high-resolution human independent inflammatory initial "
    "integrated large-scale linear local longitudinal major marine mean metabolic molecular "
    "multiple multivariate mutant neural novel nonlinear optimal partial population-based "
    "potential primary quantitative random recent relative robust selective sensory "
    "significant single-cell spatial specific stable statistical structural systematic "
    "temporal thermal transient typical variable viral"
)

VERBS = _words(
    "affects alters associates characterizes confirms contributes controls decreases defines "
    "demonstrates depends determines drives enhances estimates exhibits explains facilitates "
    "identifies improves increases indicates induces influences inhibits mediates modulates "
    "predicts promotes reduces regulates reveals shapes suggests supports triggers underlies"
)

FIELDS = _words(
    "Biology|Neuroscience|Ecology|Genetics|Cell Biology|Biochemistry|Physics|Chemistry|"
    "Medicine|Epidemiology|Immunology|Microbiology|Materials Science|Computer Science|"
    "Bioinformatics|Pharmacology|Physiology|Psychology|Environmental Science|Oncology|"
    "Plant Science|Evolutionary Biology|Biophysics|Public Health|Geosciences|Mathematics",
    separator="|",
)

FIRST_NAMES = _words(
    "Anna|James|Maria|Wei|Olga|Pierre|Sofia|Hiroshi|Amara|Lucas|Elena|Rahul|Fatima|Thomas|"
    "Ingrid|Carlos|Mei|David|Aisha|Jonas|Laura|Kenji|Priya|Mateo|Chloe|Ahmed|Hannah|Juan|Yuki|"
    "Peter|Nadia|Samuel|Leila|Marco|Sara|Daniel|Lin|Emma|Omar|Julia|Felix|Ana|Robert|Zhen|"
    "Katarzyna|Michael|Isabel|Tomas|Grace|Arjun|Clara|Henrik|Noura|Paul|Rosa|Viktor|Helen|"
    "José|Zoë|André",
    separator="|",
)

SURNAMES = _words(
    "Smith|Garcia|Wang|Müller|Kowalski|Nakamura|Okafor|Rossi|Johansson|Patel|Dubois|Silva|"
    "Chen|Novak|Hansen|Kim|Fischer|Lopez|Ivanova|Brown|Schmidt|Tanaka|Mensah|Costa|Nguyen|"
    "Andersen|Martin|Li|Weber|Hernandez|Zhang|Moreau|Singh|Kovacs|Taylor|Becker|Ahmed|Sato|"
    "Jensen|Romano|Wilson|Petrov|Lindqvist|Yamamoto|Ferreira|Walker|Haddad|Rahman|O'Brien|"
    "Schneider|Suzuki|Khan|Jovanović|Larsen|Baker|Moretti|Das|Park|Clarke|Álvarez",
    separator="|",
)

CITIES = _words(
    "Cambridge, UK|Boston, MA, USA|Berlin, Germany|Kyoto, Japan|Lagos, Nigeria|Milan, Italy|"
    "Uppsala, Sweden|Mumbai, India|Lyon, France|São Paulo, Brazil|Shanghai, China|"
    "Prague, Czech Republic|Copenhagen, Denmark|Seoul, South Korea|Munich, Germany|"
    "Madrid, Spain|Moscow, Russia|Toronto, ON, Canada|Heidelberg, Germany|Osaka, Japan|"
    "Accra, Ghana|Lisbon, Portugal|Hanoi, Vietnam|Aarhus, Denmark|Paris, France|"
    "Melbourne, VIC, Australia|Zurich, Switzerland|Edinburgh, UK|Seattle, WA, USA|"
    "Helsinki, Finland|Leiden, The Netherlands|Vienna, Austria|Cape Town, South Africa",
    separator="|",
)

MANUSCRIPT_TYPES = _words(
    "Research Article|Original Article|Research Paper|Article|Brief Communication|"
    "Short Report|Original Research|Letter|Review|Methods Article|Research Letter",
    separator="|",
)

SECTION_NAMES = _words(
    "Introduction|Background|Materials and Methods|Methods|Results|Discussion|"
    "Results and Discussion|Conclusions|Study Design|Data Analysis|Experimental Procedures|"
    "Statistical Analysis|Related Work|Theory|Model Description",
    separator="|",
)

FUNDERS = _words(
    "National Science Foundation|European Research Council|Wellcome Trust|"
    "Japan Society for the Promotion of Science|German Research Foundation|"
    "National Institutes of Health|Swiss National Science Foundation|Research Council",
    separator="|",
)

SMALL_WORDS = {"of", "and", "in", "the", "a", "for", "on", "by", "with", "to", "from", "as"}


def pick(rng: random.Random, items):
    return items[rng.randrange(len(items))]


def content_word(rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.55:
        return pick(rng, NOUNS)
    if roll < 0.85:
        return pick(rng, ADJECTIVES)
    return pick(rng, VERBS)


def sentence(rng: random.Random, min_words: int = 9, max_words: int = 26) -> str:
    """A sentence of mixed function and content words, sometimes with numbers or citations."""
    count = rng.randint(min_words, max_words)
    words = []
    for index in range(count):
        word = pick(rng, FUNCTION_WORDS) if rng.random() < 0.36 else content_word(rng)
        if index and rng.random() < 0.06:
            words[-1] += ","
        words.append(word)
    if rng.random() < 0.25:
        words.insert(rng.randrange(1, len(words)), _numeric_phrase(rng))
    text = " ".join(words)
    text = text[0].upper() + text[1:]
    if rng.random() < 0.2:
        text += f" [{rng.randint(1, 40)}]"
    return text + "."


def _numeric_phrase(rng: random.Random) -> str:
    choice = rng.randrange(5)
    if choice == 0:
        return f"(n = {rng.randint(6, 480)})"
    if choice == 1:
        return f"(p < 0.0{rng.randint(1, 5)})"
    if choice == 2:
        return f"{rng.uniform(0.1, 99):.1f}%"
    if choice == 3:
        return f"({rng.randint(2, 60)} {pick(rng, ['mM', 'nm', 'h', 'days', 'Hz', 'mg/kg', 'K'])})"
    return f"(Fig. {rng.randint(1, 6)}{pick(rng, ['', 'A', 'B', 'C'])})"


def paragraph(rng: random.Random, min_sentences: int = 3, max_sentences: int = 7) -> str:
    return " ".join(sentence(rng) for _ in range(rng.randint(min_sentences, max_sentences)))


def title_case(words: list[str]) -> str:
    out = []
    for index, word in enumerate(words):
        if index and word in SMALL_WORDS:
            out.append(word)
        else:
            out.append("-".join(part[:1].upper() + part[1:] for part in word.split("-")))
    return " ".join(out)


def article_title(rng: random.Random) -> str:
    """A title like 'Adaptive Regulation of Receptor Dynamics in Cortical Neurons'."""
    pattern = rng.randrange(4)
    if pattern == 0:
        words = [
            pick(rng, ADJECTIVES),
            pick(rng, NOUNS),
            "of",
            pick(rng, NOUNS),
            "in",
            pick(rng, ADJECTIVES),
            pick(rng, NOUNS),
        ]
    elif pattern == 1:
        words = [
            pick(rng, NOUNS),
            pick(rng, VERBS),
            pick(rng, ADJECTIVES),
            pick(rng, NOUNS),
            "during",
            pick(rng, NOUNS),
            pick(rng, NOUNS),
        ]
    elif pattern == 2:
        words = [
            "a",
            pick(rng, ADJECTIVES),
            pick(rng, NOUNS),
            "for",
            pick(rng, ADJECTIVES),
            pick(rng, NOUNS),
            "and",
            pick(rng, NOUNS),
        ]
    else:
        words = [
            pick(rng, ADJECTIVES),
            pick(rng, NOUNS),
            "and",
            pick(rng, NOUNS),
            "of",
            pick(rng, NOUNS),
            "across",
            pick(rng, ADJECTIVES),
            pick(rng, NOUNS),
        ]
    if rng.random() < 0.3:
        words += ["in", pick(rng, ["mice", "humans", "zebrafish", "yeast", "plants", "vitro"])]
    title = title_case(words)
    if rng.random() < 0.2:
        title += ": " + title_case([pick(rng, ADJECTIVES), pick(rng, NOUNS), "study"])
    return title


def short_title(rng: random.Random, min_words: int = 3, max_words: int = 8) -> str:
    words = [
        content_word(rng) if i % 3 else pick(rng, NOUNS)
        for i in range(rng.randint(min_words, max_words))
    ]
    text = " ".join(words)
    return text[0].upper() + text[1:]


def person(rng: random.Random) -> tuple[str, str]:
    """(given names, surname); given names sometimes with a middle initial."""
    given = pick(rng, FIRST_NAMES)
    if rng.random() < 0.35:
        given += f" {chr(ord('A') + rng.randrange(26))}."
    return given, pick(rng, SURNAMES)


def institution(rng: random.Random) -> tuple[str, str]:
    """(institution text, city with country)."""
    city = pick(rng, CITIES)
    town = city.split(",")[0]
    field = pick(rng, FIELDS)
    choice = rng.randrange(4)
    if choice == 0:
        text = f"Department of {field}, University of {town}"
    elif choice == 1:
        text = f"{pick(rng, SURNAMES)} Institute for {field}"
    elif choice == 2:
        text = f"Faculty of {field}, {town} Institute of Technology"
    else:
        text = f"Laboratory of {pick(rng, ADJECTIVES).title()} {field}, {town} Research Centre"
    return text, city


def journal_name(rng: random.Random) -> str:
    field = pick(rng, FIELDS)
    return pick(
        rng,
        [
            f"Journal of {field}",
            f"{field} Letters",
            f"International Journal of {field}",
            f"Annals of {field}",
            f"{field} Reports",
            f"Frontiers in {field}",
            f"Open {field}",
            f"Advances in {field}",
            f"{field} Research",
        ],
    )


def doi(rng: random.Random) -> str:
    prefix = rng.randint(1000, 9999)
    suffix = pick(
        rng,
        [
            f"j.{rng.choice(['jbs', 'cell', 'ecol', 'phys', 'neur'])}.{rng.randint(2005, 2024)}."
            f"{rng.randint(1, 12):02d}.{rng.randint(1, 999):03d}",
            f"s{rng.randint(10000, 99999)}-{rng.randint(10, 24)}-{rng.randint(1000, 9999)}-{rng.randint(0, 9)}",
            f"journal.{rng.choice(['pone', 'pbio', 'pcbi'])}.{rng.randint(1000000, 9999999)}",
            f"{rng.choice(['elife', 'peerj', 'ijms', 'srep'])}.{rng.randint(10000, 99999)}",
        ],
    )
    return f"10.{prefix}/{suffix}"


def keywords(rng: random.Random) -> list[str]:
    count = rng.randint(3, 7)
    result = []
    while len(result) < count:
        word = (
            pick(rng, NOUNS)
            if rng.random() < 0.5
            else f"{pick(rng, ADJECTIVES)} {pick(rng, NOUNS)}"
        )
        if word not in result:
            result.append(word)
    return result


def table_word(rng: random.Random) -> str:
    return pick(rng, NOUNS).capitalize()
