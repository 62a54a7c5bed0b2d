import pytest

from sciencebeam_gym.color_map import default_color_map_path, load_color_map
from sciencebeam_gym.document.text import normalise, tokenise
from sciencebeam_gym.document.xml_mapping import (
    MappingError,
    default_xml_mapping_path,
    load_xml_mapping,
    parse_xml_mapping,
)


def test_tokenise_handles_ligatures_accents_case_and_markers():
    assert tokenise("The \ufb01rst Ca\u0301ceres") == ["the", "first", "caceres"]
    assert tokenise("Molnár1, Gellény2*") == ["molnar", "1", "gelleny", "2"]
    assert tokenise("Mother-to-Child") == ["mother", "to", "child"]
    assert normalise("CO\u2082") == "co2"


def test_mapping_parses_fields_fallbacks_options_and_xml_settings():
    mapping = parse_xml_mapping(
        "[fields]\n"
        "manuscript_title = front/article-meta/title-group/article-title\n"
        "keywords_title = front//kwd-group/title\n"
        "keywords_title = 'Keywords'\n"
        "[options]\n"
        "keywords_title = line\n"
        "[xml]\n"
        "drop = sub-article\n"
        "inline = italic, sup\n"
    )
    assert mapping.labels == ["manuscript_title", "keywords_title"]
    assert mapping.rules[1].xpaths == ("front//kwd-group/title", "'Keywords'")
    assert mapping.rules[1].options == frozenset({"line"})
    assert mapping.drop == ("sub-article",)
    assert mapping.inline == frozenset({"italic", "sup"})


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[fields]\ntitle = front/[\n", "does not parse"),
        ("[fields]\ntitle = front\n[options]\ntitle = sparkly\n", "unknown options"),
        ("[colours]\nx = 1\n", "unknown section"),
        ("title = front\n", "before any [section]"),
        ("[options]\nauthor = group\n", "no [fields] line"),
        ("# nothing\n", "no [fields] lines"),
    ],
)
def test_mapping_errors_name_the_line_and_problem(text, message):
    with pytest.raises(MappingError, match=message.replace("[", r"\[")):
        parse_xml_mapping(text, "m.conf")


def test_default_mapping_uses_only_labels_of_the_default_color_map():
    mapping = load_xml_mapping(default_xml_mapping_path())
    color_map = load_color_map(default_color_map_path())
    mapping.check_labels(color_map.labels)
    assert {"manuscript_title", "author", "abstract", "section_paragraph"} <= set(mapping.labels)
    with pytest.raises(MappingError, match="not classes of the colour map"):
        mapping.check_labels(["abstract"])
