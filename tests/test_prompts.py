import pytest

from judgekit.errors import TemplateError
from judgekit.methods import make_method
from judgekit.prompts import render_messages
from judgekit.rubric import parse_rubric
from judgekit.types import ImagePart, Sample, TextPart

IMG = ImagePart(b"\x89PNG fake", "image/png", "image")


def test_user_prompt_is_data_not_template():
    prompt = "a sign reading {{ 7*7 }} and {% for x in y %}loop{% endfor %} {{ image('image') }}"
    msgs = render_messages("pointwise.j2", _vars(prompt), {"image": IMG})
    user = msgs[-1]
    text = user.text
    assert prompt in text, "the prompt must reach the judge literally"
    assert "49" not in text
    # the forged image() call in the prompt must not produce a second image part
    assert sum(isinstance(p, ImagePart) for p in user.content) == 1


def _vars(prompt):
    return {
        "prompt": prompt,
        "inputs": ["prompt", "image"],
        "dimension": "d",
        "criteria": "c",
        "scale": {"min": 0, "max": 10, "integer": True},
        "labels": [],
    }


def test_image_part_placed_where_template_says(tmp_path):
    (tmp_path / "t.j2").write_text("{% block user %}before {{ image('image') }} after{% endblock %}")
    msgs = render_messages("t.j2", {}, {"image": IMG}, tmp_path)
    assert [type(p) for p in msgs[0].content] == [TextPart, ImagePart, TextPart]
    assert msgs[0].role == "user"


@pytest.mark.parametrize(
    "payload",
    [
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{{ cycler.__init__.__globals__.os }}",
        "{{ prompt.__class__.__init__.__globals__ }}",
        "{{ config.items() }}",
        "{% set x = [].append(1) %}{{ x }}",
        "{{ undefined_name }}",
    ],
)
def test_template_injection_and_undefined_raise_template_error(tmp_path, payload):
    (tmp_path / "evil.j2").write_text("{% block user %}" + payload + "{% endblock %}")
    with pytest.raises(TemplateError):
        render_messages("evil.j2", {"prompt": "p"}, {}, tmp_path)


def test_rubric_with_evil_template_fails_per_render(tmp_path):
    (tmp_path / "evil.j2").write_text("{% block user %}{{ criteria.__class__.__base__.__subclasses__() }}{% endblock %}")
    (tmp_path / "r.yaml").write_text("name: r\ntemplate: evil.j2\ndimensions: [{name: a, criteria: c}]\n")
    r = parse_rubric((tmp_path / "r.yaml").read_text(), str(tmp_path / "r.yaml"))
    img = tmp_path / "i.png"
    from tests.fixtures_spine import write_png

    write_png(img, 0)
    with pytest.raises(TemplateError):
        make_method(r).plan(Sample(id="x", prompt="p", image=str(img)))


def test_missing_template_and_block(tmp_path):
    with pytest.raises(TemplateError, match="not found"):
        render_messages("nope.j2", {}, {}, tmp_path)
    (tmp_path / "noblock.j2").write_text("just text")
    with pytest.raises(TemplateError, match="block user"):
        render_messages("noblock.j2", {}, {}, tmp_path)
