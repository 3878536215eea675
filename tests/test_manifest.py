import json

import pytest

import judgekit as jk
from judgekit.errors import DataError


def test_paths_relative_to_manifest_and_extra_keys_to_meta(tmp_path):
    d = tmp_path / "sub"
    d.mkdir()
    (d / "m.jsonl").write_text(
        json.dumps({"id": 1, "prompt": "p", "image": "img/a.png", "model": "m", "seed": 0, "category": "animals"}) + "\n\n"
    )
    (s,) = jk.load_samples(d / "m.jsonl")
    assert s.id == "1" and s.image == str((d / "img" / "a.png").resolve())
    assert s.meta == {"category": "animals"}


def test_bad_json_line_stops_with_line_number(tmp_path):
    p = tmp_path / "m.jsonl"
    p.write_text('{"id": "a", "prompt": "p"}\n{"id": "b", "prompt": \n')
    with pytest.raises(DataError, match=r"m.jsonl:2: not valid JSON"):
        jk.load_samples(p)


def test_duplicate_ids_and_missing_id(tmp_path):
    p = tmp_path / "m.jsonl"
    p.write_text('{"id": "a"}\n{"id": "a"}\n')
    with pytest.raises(DataError, match=r":2: duplicate sample id 'a'"):
        jk.load_samples(p)
    p.write_text('{"prompt": "x"}\n')
    with pytest.raises(DataError, match=r":1: sample has no 'id'"):
        jk.load_samples(p)


def test_wrong_field_type(tmp_path):
    p = tmp_path / "m.jsonl"
    p.write_text('{"id": "a", "seed": "zero"}\n')
    with pytest.raises(DataError, match=r":1: field 'seed'"):
        jk.load_samples(p)
