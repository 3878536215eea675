"""A mistyped or misplaced option is one line and exit 2, for every backend and rubric kind:
never a traceback, never silently ignored."""

import pytest

from judgekit.backends import make_backend
from judgekit.backends.options import refuse_unknown
from judgekit.cli import main
from judgekit.errors import ConfigError
from judgekit.kinds import BUILTIN_KINDS
from judgekit.rubric import builtin_rubrics, load_rubric


def _one_error(err: str) -> str:
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("judgekit: error:"), err
    return lines[0]


def test_decoding_engine_arg_with_openai_is_one_line(manifest_factory, tmp_path, capsys):
    rc = main(["score", "--rubric", "viescore-t2i", "--data", str(manifest_factory(1)), "--backend", "openai:judge",
               "--base-url", "http://127.0.0.1:9/v1", "--engine-arg", "temperature=0.7", "--out", str(tmp_path / "r")])
    line = _one_error(capsys.readouterr().err)
    assert rc == 2
    assert "unknown option 'temperature'" in line and "openai: accepts" in line and "timeout" in line
    assert "extra_body" in line and "greedily" in line


def test_typo_gets_a_suggestion():
    with pytest.raises(ConfigError, match=r"'timeuot' \(did you mean 'timeout'\?\)"):
        make_backend("openai:judge", timeuot=3)


@pytest.mark.parametrize("spec", ["hf:/no/such/model", "replay:/no/such/answers.csv"])
def test_unknown_option_of_other_backends_is_refused_before_anything_loads(spec, tmp_path, capsys):
    m = tmp_path / "m.jsonl"
    m.write_text('{"id": "a", "prompt": "p", "image": "a.png"}\n')
    assert main(["score", "--rubric", "viescore-t2i", "--data", str(m), "--backend", spec,
                 "--engine-arg", "no_such_option=1", "--out", str(tmp_path / "r")]) == 2
    assert "no_such_option" in _one_error(capsys.readouterr().err)


def test_refuse_unknown_lists_what_is_accepted():
    with pytest.raises(ConfigError) as err:
        refuse_unknown("x:m", {"b", "zz"}, ["alpha", "beta"])
    assert str(err.value) == "x:m: unknown options 'b', 'zz'; x: accepts alpha, beta"
    refuse_unknown("x:m", set(), ["alpha"])  # nothing unknown: nothing raised


def _rubric_of_each_kind() -> dict[str, str]:
    out: dict[str, str] = {}
    for name in builtin_rubrics():
        out.setdefault(load_rubric(name).kind, name)
    return out


def test_every_builtin_kind_has_a_builtin_rubric():
    assert set(_rubric_of_each_kind()) == set(BUILTIN_KINDS)


@pytest.mark.parametrize("kind", sorted(BUILTIN_KINDS))
def test_misspelt_method_option_is_refused_for_every_kind(kind, manifest_factory, tmp_path, capsys):
    rubric = _rubric_of_each_kind()[kind]
    rc = main(["score", "--rubric", rubric, "--data", str(manifest_factory(1)), "--backend", "openai:judge",
               "--base-url", "http://127.0.0.1:9/v1", "--option", "mergee=tie", "--out", str(tmp_path / "r"),
               "--no-cache", "--no-progress"])
    line = _one_error(capsys.readouterr().err)
    assert rc == 2 and "'mergee' is not an option of kind" in line and "accepted options" in line


def test_an_unknown_argument_of_a_subcommand_shows_that_subcommands_usage(capsys):
    # Issue 18 item 30: argparse reported it with the top-level usage (`judgekit [-h] ... COMMAND`).
    with pytest.raises(SystemExit) as exc:
        main(["metrics", "prdc", "--real", "a.npy", "--fake", "b.npy", "--bogus"])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: judgekit metrics prdc") and "judgekit metrics prdc: error: unrecognized arguments: --bogus" in err
    with pytest.raises(SystemExit):
        main(["score", "--rubric", "x", "--bogus"])
    assert capsys.readouterr().err.startswith("usage: judgekit score")
