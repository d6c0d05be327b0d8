import pytest

from qunlian.targets.concepts import CONCEPTS, MEASURES, concept_of, load_concepts
from qunlian.core.errors import QunlianError


def test_registry_is_data_and_complete():
    keys = [c.key for c in CONCEPTS]
    assert len(keys) == len(set(keys))
    assert all(c.measure in MEASURES and c.names for c in CONCEPTS)
    # the same indicator printed three ways in the province, 000 and 003 resolves to one concept
    a = concept_of("规模以上工业亩均增加值")[0]
    b = concept_of("规上工业亩均增加值(万元/亩)")[0]
    assert a is b and a.measure == "intensity"


def test_unknown_key_in_the_file_is_refused_naming_the_file(tmp_path):
    bad = tmp_path / "concepts.yaml"
    bad.write_text(
        "version: x\nconcepts:\n- key: k\n  label: l\n  measure: flow\n  names: [{name: n}]\n  weight: 3\n",
        encoding="utf-8",
    )
    with pytest.raises(QunlianError, match="concepts.yaml"):
        load_concepts(bad)
