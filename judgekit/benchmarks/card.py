"""A benchmark's protocol card: what its official evaluation does, and how closely judgekit's
``bench run`` follows it.

Users compare judgekit's number with a paper's. The card says, part by part, whether judgekit
reproduces the official protocol ``exact``-ly, ``approximate``-ly (same procedure, another judge
or judgekit's own wording of the judge prompt), or ``not`` at all, and which known protocol bugs
(with their issue numbers) a reader of published numbers should know about.

>>> card = ProtocolCard(name="demo", title="Demo", task="text-to-image", repository="o/r",
...     official_judge="GPT-4o", official_prompt="eval.py", aggregation="mean x 100",
...     data="demo.jsonl", images="a folder", license="MIT", runnable=False)
>>> card.summary_line().split()[:2]
['demo', 'text-to-image']
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Fidelity = Literal["exact", "approximate", "not"]
FIDELITY_WORDS = {"exact": "reproduced exactly", "approximate": "reproduced approximately", "not": "not reproduced"}


@dataclass(frozen=True)
class Part:
    """One part of a protocol (a scoring rule, an aggregation, a subset) and its fidelity."""

    name: str
    fidelity: Fidelity
    note: str = ""


@dataclass(frozen=True)
class ProtocolCard:
    name: str  # the ``bench`` name
    title: str
    task: Literal["text-to-image", "image editing"]
    repository: str
    official_judge: str  # model and version the maintainers use
    official_prompt: str  # where the official judge prompt lives in the benchmark's repository
    aggregation: str  # the official aggregation, in words
    data: str  # the benchmark's own file(s) --data takes
    images: str  # the layout --images takes (the benchmark evaluator's own)
    license: str  # of the benchmark's data: judgekit never ships non-commercial data
    runnable: bool  # False: the card is listed for reference; `bench run` refuses it
    parts: tuple[Part, ...] = ()
    known_issues: tuple[str, ...] = ()  # protocol bugs and complaints, each with its issue number
    methods: tuple[str, ...] = ()  # --method choices; the first is the default
    protocol_dir: str = ""  # what --protocol-dir reads from a checkout ("" = not supported)
    published_outputs: str = ""  # per-sample judge outputs the maintainers published, if any

    def summary_line(self) -> str:
        status = "runnable" if self.runnable else "card only (not runnable in judgekit)"
        return f"{self.name:<14} {self.task:<14} judge: {self.official_judge}; {status}"

    def lines(self) -> list[str]:
        """The full card, one field a line (``bench list --verbose``, docs/benchmarks.md)."""
        out = [
            f"{self.title} ({self.name})",
            f"  task:             {self.task}",
            f"  repository:       {self.repository}",
            f"  official judge:   {self.official_judge}",
            f"  official prompt:  {self.official_prompt}",
            "  judge prompt:     " + (f"official text with --protocol-dir (reads {self.protocol_dir}); "
                                        "otherwise judgekit's own wording, not the official text"
                                        if self.protocol_dir else "judgekit's own wording, not the official text"),
            f"  aggregation:      {self.aggregation}",
            f"  --data:           {self.data}",
            f"  --images:         {self.images}",
            f"  data license:     {self.license}",
            f"  runnable:         {'yes' if self.runnable else 'no'}",
        ]
        if self.methods:
            out.append(f"  --method:         {' | '.join(self.methods)} (default {self.methods[0]})")
        for p in self.parts:
            out.append(f"  [{FIDELITY_WORDS[p.fidelity]}] {p.name}" + (f": {p.note}" if p.note else ""))
        for issue in self.known_issues:
            out.append(f"  known issue: {issue}")
        if self.published_outputs:
            out.append(f"  published per-sample outputs: {self.published_outputs}")
        return out


@dataclass
class PromptChoice:
    """The judge prompt a run used: judgekit's own wording or the official text read from the
    user's checkout (``--protocol-dir``), recorded in the run and printed with its headline."""

    source: Literal["official", "judgekit"]
    texts: dict[str, str] = field(default_factory=dict)  # the prompt's pieces by name
    where: str = ""  # the file the official text was read from

    def describe(self) -> str:
        if self.source == "official":
            return f"official prompt (read from {self.where})"
        return "judgekit's own prompt wording (not the official text)"
