"""claims.list / show / check: the command line's JSON documents."""

import pytest

import transformer_laws as tl


def test_list_and_show():
    ids = tl.claims.list()
    assert "softmax-shift-invariance" in ids and len(ids) == len(set(ids)) >= 20
    doc = tl.claims.show("argmax-dot-vs-nearest")
    assert doc["id"] == "argmax-dot-vs-nearest"
    assert "schema_version" in doc and doc["readings"]
    assert all(j["agrees_with_proof"] for r in doc["readings"] for j in r["judgements"])


def test_unknown_id_is_a_value_error():
    with pytest.raises(ValueError, match="unknown claim id 'softmax'"):
        tl.claims.show("softmax")


def test_check_some_claims():
    doc = tl.claims.check(["softmax-shift-invariance", "rmsnorm-invariances"])
    assert [c["id"] for c in doc["claims"]] == ["softmax-shift-invariance", "rmsnorm-invariances"]
    assert doc["disagree"] == 0 and doc["agree"] > 0


def test_one_id_as_a_string_is_one_claim_not_its_letters():
    doc = tl.claims.check("softmax-shift-invariance", cases=8)
    assert [c["id"] for c in doc["claims"]] == ["softmax-shift-invariance"]


def test_bad_arguments_raise_type_or_value_errors():
    with pytest.raises(ValueError, match=r"seed must be an integer in \[0, 2\*\*64\), got -1"):
        tl.claims.show("softmax-shift-invariance", seed=-1)
    with pytest.raises(TypeError, match="id must be a str"):
        tl.claims.show(3)
    with pytest.raises(ValueError, match="cases must be"):
        tl.claims.check(cases=2**32)
