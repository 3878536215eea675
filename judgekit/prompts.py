"""Rendering prompt templates into chat messages, in one sandboxed Jinja environment.

A template is a ``.j2`` file with a ``system`` block (optional) and a ``user`` block. Images
are placed with ``{{ image("image") }}``; everything else a template sees is plain data
(prompt, criteria, scale), so text from a manifest or a rubric is never evaluated as Jinja:
``{{ 7*7 }}`` inside a user's prompt reaches the judge literally.

The environment is Jinja's immutable sandbox with ``StrictUndefined``: a template that names a
variable it was not given, or reaches for Python internals (``''.__class__``), raises
``TemplateError`` instead of rendering something surprising.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2
from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError

from .errors import TemplateError
from .resources import data_dir
from .types import ImagePart, Message, TextPart


@lru_cache(maxsize=16)
def _environment(extra_dir: str | None) -> ImmutableSandboxedEnvironment:
    dirs = [extra_dir] if extra_dir else []
    dirs.append(str(data_dir("prompts")))
    return ImmutableSandboxedEnvironment(
        loader=jinja2.FileSystemLoader(dirs),
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        keep_trailing_newline=False,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _template(name: str, base_dir: Path | None) -> jinja2.Template:
    env = _environment(str(base_dir) if base_dir else None)
    try:
        return env.get_template(name)
    except jinja2.TemplateNotFound:
        raise TemplateError(
            f"prompt template {name!r} not found (looked in {[*( [str(base_dir)] if base_dir else []), str(data_dir('prompts'))]})"
        ) from None
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateError(f"prompt template {name!r} line {exc.lineno}: {exc.message}") from None


def template_hash(name: str, base_dir: Path | None = None) -> str:
    """Hash of the template source, recorded in every result's provenance."""
    tmpl = _template(name, base_dir)
    source = Path(tmpl.filename).read_bytes() if tmpl.filename else name.encode()
    return hashlib.sha256(source).hexdigest()[:16]


def template_variables(name: str, base_dir: Path | None = None) -> set[str]:
    """Every variable ``name`` (and the templates it extends or includes) reads without setting
    it: what a caller must provide. ``rubrics validate`` compares it with what the method gives,
    so a misspelt variable is found without rendering the branch that uses it."""
    from jinja2 import meta

    env = _environment(str(base_dir) if base_dir else None)
    found: set[str] = set()
    todo, seen = [name], set()
    while todo:
        current = todo.pop()
        if current in seen:
            continue
        seen.add(current)
        _template(current, base_dir)  # a clear TemplateError when missing or broken
        assert env.loader is not None  # the environment is built with a loader
        source = env.loader.get_source(env, current)[0]
        tree = env.parse(source)
        found |= meta.find_undeclared_variables(tree)
        todo += [t for t in meta.find_referenced_templates(tree) if isinstance(t, str)]
    return found


_SLOT = re.compile(r"\x00img-([0-9a-f]{16})\[([^\]]*)\]")


def _split_images(text: str, nonce: str, images: Mapping[str, ImagePart]) -> list[TextPart | ImagePart]:
    parts: list[TextPart | ImagePart] = []
    pos = 0
    for m in _SLOT.finditer(text):
        if m.group(1) != nonce:  # a slot this render did not make is just text
            continue
        if m.start() > pos:
            parts.append(TextPart(text[pos : m.start()]))
        parts.append(images[m.group(2)])
        pos = m.end()
    if pos < len(text):
        parts.append(TextPart(text[pos:]))
    # Drop whitespace-only text between images so requests stay tidy (and hash the same).
    return [p for p in parts if not (isinstance(p, TextPart) and not p.text.strip())]


def render_messages(
    template: str,
    variables: Mapping[str, Any],
    images: Mapping[str, ImagePart] | None = None,
    base_dir: Path | None = None,
) -> tuple[Message, ...]:
    """Render ``template`` into a system message (when the block is non-empty) and a user
    message whose image parts sit where the template called ``image(name)``."""
    images = dict(images or {})
    # A fresh random marker per render: user-supplied text can never forge an image slot.
    nonce = secrets.token_hex(8)
    marker = f"\x00img-{nonce}"

    def image(name: str) -> str:
        if name not in images:
            raise TemplateError(f"template {template!r} asks for image {name!r}, which this call does not have")
        return f"{marker}[{name}]"

    tmpl = _template(template, base_dir)
    try:
        ctx = tmpl.new_context({**variables, "image": image})
        blocks = {name: "".join(fn(ctx)).strip() for name, fn in tmpl.blocks.items()}
    except TemplateError:
        raise
    except SecurityError as exc:
        raise TemplateError(f"template {template!r} tried something the sandbox forbids: {exc}") from None
    except jinja2.UndefinedError as exc:
        raise TemplateError(f"template {template!r}: {exc.message}") from None
    except jinja2.TemplateError as exc:
        raise TemplateError(f"template {template!r}: {exc}") from None
    if "user" not in blocks:
        raise TemplateError(f"template {template!r} has no {{% block user %}}")
    messages = []
    if blocks.get("system"):
        if marker in blocks["system"]:
            raise TemplateError(f"template {template!r}: images belong in the user block")
        messages.append(Message("system", (TextPart(blocks["system"]),)))
    messages.append(Message("user", tuple(_split_images(blocks["user"], nonce, images))))
    return tuple(messages)
