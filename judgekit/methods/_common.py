"""What every method shares: the sample's template variables and images, and typed options.

Options come from the rubric's ``options:`` mapping and from ``--option KEY=VALUE`` (or
``method_options=``). Each kind declares them as a pydantic model with ``extra="forbid"``, so a
typo (``mergee=tie``) or a value outside the accepted set is one ``RubricError`` naming the rubric
file, the option and what is accepted, the same way in every kind.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from ..errors import RubricError, SampleError
from ..images import load_image_part
from ..rubric import Rubric
from ..types import IMAGE_FIELDS, ImagePart, Sample


class MethodOptions(BaseModel):
    """Base of every kind's options model (unknown names are refused)."""

    model_config = ConfigDict(extra="forbid", frozen=True)


OptionsT = TypeVar("OptionsT", bound=MethodOptions)


def parse_options(model: type[OptionsT], rubric: Rubric, overrides: Mapping[str, Any] | None = None) -> OptionsT:
    """The rubric's options updated by ``overrides``, validated by ``model``."""
    values = {**rubric.options, **(overrides or {})}
    try:
        return model.model_validate(values)
    except ValidationError as exc:
        accepted = ", ".join(model.model_fields)
        problems = []
        for e in exc.errors():
            name = ".".join(str(p) for p in e["loc"]) or "(options)"
            if e["type"] == "extra_forbidden":
                problems.append(f"option {name!r} is not an option of kind {rubric.kind!r}")
            else:
                problems.append(f"option {name!r}: {e['msg']} (got {e.get('input')!r})")
        raise RubricError(f"{rubric.source}: " + "; ".join(problems) + f"; accepted options: {accepted or 'none'}") from None


def sample_variables(sample: Sample, inputs: list[str]) -> dict[str, Any]:
    """The text inputs a template sees; a missing one is a per-sample error."""
    out: dict[str, Any] = {}
    for name in inputs:
        if name in IMAGE_FIELDS:
            continue
        value = getattr(sample, name, None) if name in Sample.model_fields else sample.meta.get(name)
        if value is None:
            raise SampleError(f"sample {sample.id!r} has no {name!r}, which this rubric needs")
        out[name] = value
    return out


def sample_images(sample: Sample, inputs: list[str]) -> dict[str, ImagePart]:
    """The image inputs, read and checked now so a bad file fails this sample only."""
    images = {}
    for name in inputs:
        if name not in IMAGE_FIELDS:
            continue
        path = getattr(sample, name)
        if not path:
            raise SampleError(f"sample {sample.id!r} has no {name!r}, which this rubric needs")
        images[name] = load_image_part(path, name)
    return images
