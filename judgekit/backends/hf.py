"""``hf:MODEL``: a transformers judge (``AutoProcessor`` + ``AutoModelForImageTextToText``).

For machines without vLLM, or to check vLLM against a second engine. A batch is left-padded
and decoded greedily in one ``generate`` call, in a worker thread.

Verdicts are constrained by the request's JSON schema with **llguidance** (through a logits
processor), not xgrammar: llguidance is the engine behind vLLM's ``guidance`` backend, which
is judgekit's vLLM default, so both local engines constrain with the same grammar compiler and
the same whitespace rules and give the same JSON on the same model; it also compiles a schema
lazily with no per-vocabulary preprocessing, so a one-off request costs nothing up front, and
xgrammar let raw control characters into JSON strings in our vLLM trials. Where llguidance is
not installed (or ``structured_outputs="none"``), generation is unconstrained and the runner's
parse/validate/retry handles the reply, as for any server.

Example::

    from judgekit.backends import make_backend
    judge = make_backend("hf:/models/Qwen2.5-VL-3B-Instruct", device="cuda", dtype="bfloat16")
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Sequence
from typing import Any

from ..errors import ConfigError, InputError, MissingDependencyError
from ..types import ChatRequest, ChatResponse, TokenLogprob
from .local_model import check_vlm_dir, model_revision, resolve_model_dir, to_chat_messages
from .options import refuse_unknown

_DTYPES = ("auto", "float32", "float16", "bfloat16")


def _import_stack():
    try:
        import torch
        import transformers
    except ImportError as e:
        raise MissingDependencyError("transformers", "hf", "the hf: backend") from e
    return torch, transformers


def _grammar_lib():
    try:
        import llguidance
        import llguidance.hf
        import llguidance.torch
    except ImportError:
        return None
    return llguidance


class HFBackend:
    """Options: ``device`` (``auto`` | ``cpu`` | ``cuda`` | ``cuda:N``), ``dtype`` (``auto`` =
    bfloat16 on CUDA, float32 on CPU), ``max_batch_size`` (default 8), ``max_model_len``
    (default: the model's position limit), ``structured_outputs`` (``llguidance`` | ``none``).
    """


    def __init__(self, model: str, *, device: str = "auto", dtype: str = "auto",
                 max_batch_size: int = 8, max_model_len: int | None = None,
                 structured_outputs: str = "llguidance", **unknown: Any):
        refuse_unknown(f"hf:{model}", unknown, ("device", "dtype", "max_batch_size", "max_model_len",
                                                 "structured_outputs"))
        if dtype not in _DTYPES:
            raise ConfigError(f"hf:{model}: dtype {dtype!r} is not one of {_DTYPES}")
        if structured_outputs not in ("llguidance", "none"):
            raise ConfigError(f"hf:{model}: structured_outputs must be 'llguidance' or 'none'")
        path = resolve_model_dir(model)  # before importing torch: a wrong path is one line, at once
        check_vlm_dir(path)
        torch, transformers = _import_stack()
        self._torch = torch
        self.model = model
        self.spec = f"hf:{model}"
        self.max_batch_size = int(max_batch_size)
        self._lock = threading.Lock()

        self.model_dir = path
        self.revision = model_revision(path)
        if device == "auto":
            device = "cuda" if torch.cuda.is_available() else "cpu"
        if device.startswith("cuda") and not torch.cuda.is_available():
            raise ConfigError(f"hf:{model}: device {device!r} asked for, but CUDA is not available")
        if dtype == "auto":
            dtype = "bfloat16" if device.startswith("cuda") else "float32"
        self.device, self.dtype = device, dtype
        try:
            self.processor = transformers.AutoProcessor.from_pretrained(path)
            self.net = transformers.AutoModelForImageTextToText.from_pretrained(
                path, dtype=getattr(torch, dtype)).to(device).eval()
        except (OSError, ValueError, KeyError) as e:
            raise ConfigError(f"hf:{model}: cannot load {path} as an image-text-to-text model "
                              f"with its processor: {e}") from e
        self.tokenizer: Any = getattr(self.processor, "tokenizer", None)  # checked just below
        if self.tokenizer is None:
            raise ConfigError(f"hf:{model}: the processor in {path} has no tokenizer")
        self.tokenizer.padding_side = "left"
        text_cfg = self.net.config.get_text_config()
        self.vocab_size = int(text_cfg.vocab_size)
        self.max_model_len = int(max_model_len or getattr(text_cfg, "max_position_embeddings", 0)
                                 or 32768)
        gen = self.net.generation_config
        eos = gen.eos_token_id if gen.eos_token_id is not None else self.tokenizer.eos_token_id
        self.eos_ids = set(eos if isinstance(eos, list) else [eos]) - {None}
        self.pad_id = self.tokenizer.pad_token_id
        if self.pad_id is None:
            self.pad_id = next(iter(self.eos_ids), 0)

        self._llg = _grammar_lib() if structured_outputs == "llguidance" else None
        self._lltok = None
        if self._llg is not None:
            self._lltok = self._llg.hf.from_tokenizer(self.tokenizer, n_vocab=self.vocab_size)
        self.structured_outputs = "llguidance" if self._llg is not None else "none"

    # --- protocol --------------------------------------------------------------------------

    async def generate(self, requests: Sequence[ChatRequest]) -> list[ChatResponse]:
        if not requests:
            return []
        return await asyncio.to_thread(self.generate_sync, list(requests))

    async def aclose(self) -> None:
        self.net = None  # let the weights go; nothing else to release

    def describe(self) -> dict[str, Any]:
        import transformers

        return {"spec": self.spec, "model": self.model, "model_dir": str(self.model_dir),
                "engine": "transformers", "transformers_version": transformers.__version__,
                "device": self.device, "dtype": self.dtype,
                "structured_outputs": self.structured_outputs}

    def cache_identity(self) -> dict[str, Any]:
        # What decides the tokens: the model files, device and dtype (numerics), whether the
        # grammar constrains decoding, the length limit, and the transformers version.
        # max_batch_size is a scheduling choice left out: a batch of another size pads
        # differently and may move logits in their last bits, but either answer is this judge's.
        import transformers

        return {"spec": self.spec, "endpoint": f"transformers in-process: {self.model_dir}",
                "revision": self.revision, "device": self.device, "dtype": self.dtype,
                "structured_outputs": self.structured_outputs, "max_model_len": self.max_model_len,
                "transformers_version": transformers.__version__}

    # --- work ------------------------------------------------------------------------------

    def generate_sync(self, requests: list[ChatRequest]) -> list[ChatResponse]:
        """Blocking form of ``generate``: validate each request alone, then one batched
        ``generate`` for the valid ones (one by one if the batch fails)."""
        if self.net is None:
            raise ConfigError(f"{self.spec}: generate() after aclose()")
        results: list[ChatResponse | None] = [None] * len(requests)
        ready: list[tuple[int, str, list]] = []
        for i, req in enumerate(requests):
            try:
                ready.append((i, *self._prepare(req)))
            except ValueError as e:
                results[i] = ChatResponse(error=str(e))
        with self._lock:
            if ready:
                reqs = [requests[i] for i, _, _ in ready]
                try:
                    outs = self._generate([t for _, t, _ in ready], [im for _, _, im in ready], reqs)
                except (RuntimeError, ValueError) as batch_error:
                    if len(ready) == 1:
                        outs = [ChatResponse(error=f"generation failed: {batch_error}")]
                    else:
                        outs = []
                        for (_, t, im), r in zip(ready, reqs):
                            try:
                                outs += self._generate([t], [im], [r])
                            except (RuntimeError, ValueError) as e:
                                outs.append(ChatResponse(error=f"generation failed: {e}"))
                for (i, _, _), resp in zip(ready, outs):
                    results[i] = resp
        return [r if r is not None else ChatResponse(error="no response") for r in results]

    def _prepare(self, req: ChatRequest) -> tuple[str, list]:
        """The prompt text and decoded images of one request; ValueError if the processor
        rejects it or it is longer than ``max_model_len``."""
        conv = to_chat_messages(req, image_key="image")
        images = [p["image"] for m in conv for p in m["content"] if p["type"] == "image"]
        text = self.processor.apply_chat_template(conv, add_generation_prompt=True, tokenize=False)
        try:
            enc = self.processor(text=[text], images=images or None, return_tensors="pt")
        except Exception as e:  # noqa: BLE001 - whatever the processor objects to is per-request
            raise InputError(f"the processor rejected the request: {type(e).__name__}: {e}") from e
        n = int(enc["input_ids"].shape[-1])
        if n >= self.max_model_len:
            raise InputError(f"prompt is too long: {n} tokens, max_model_len is {self.max_model_len}")
        return text, images

    def _generate(self, texts: list[str], images: list[list], reqs: list[ChatRequest]):
        torch = self._torch
        flat = [im for ims in images for im in ims]
        enc = self.processor(text=texts, images=flat or None, return_tensors="pt", padding=True)
        enc = {k: (v.to(self.device) if hasattr(v, "to") else v) for k, v in enc.items()}
        if "pixel_values" in enc and enc["pixel_values"].is_floating_point():
            enc["pixel_values"] = enc["pixel_values"].to(getattr(torch, self.dtype))
        prompt_len = int(enc["input_ids"].shape[-1])
        max_new = max(r.max_tokens for r in reqs)
        temperature = reqs[0].temperature
        sample = temperature > 0
        kwargs: dict[str, Any] = {"do_sample": False, "temperature": None, "top_p": None,
                                  "top_k": None}
        if sample:
            kwargs = {"do_sample": True, "temperature": temperature}
            torch.manual_seed(reqs[0].seed or 0)
        procs = []
        stop = _RowsDone(prompt_len, [r.max_tokens for r in reqs], self.eos_ids)
        grammar = self._grammar(reqs)
        if grammar is not None:
            procs.append(grammar)
        t0 = time.perf_counter()
        with torch.inference_mode():
            out = self.net.generate(
                **enc, max_new_tokens=max_new, pad_token_id=self.pad_id,
                eos_token_id=sorted(self.eos_ids), logits_processor=procs or None,
                stopping_criteria=[stop],
                output_scores=True, return_dict_in_generate=True, **kwargs)
        elapsed = time.perf_counter() - t0
        seqs = out.sequences[:, prompt_len:].tolist()
        n_prompt = enc["attention_mask"].sum(-1).tolist()
        responses = []
        for row, req in enumerate(reqs):
            ids = seqs[row][: req.max_tokens]
            finish = "length"
            for j, t in enumerate(ids):
                if t in self.eos_ids:
                    ids, finish = ids[:j], "stop"
                    break
            lps = None
            if req.logprobs:
                k = max(1, req.top_logprobs or 1)
                lps = [self._position(out.scores[j][row], tid, k) for j, tid in enumerate(ids)]
                if not lps and out.scores:  # the first position was EOS: still report it
                    lps = [self._position(out.scores[0][row], seqs[row][0], k)]
            responses.append(ChatResponse(
                text=self.tokenizer.decode(ids, skip_special_tokens=True),
                logprobs=lps,
                usage={"prompt_tokens": int(n_prompt[row]), "completion_tokens": len(ids)},
                latency_s=elapsed,
                raw={"finish_reason": finish, "batch_size": len(reqs)},
            ))
        return responses

    def _position(self, scores, token_id: int, k: int) -> TokenLogprob:
        lp = self._torch.log_softmax(scores.float(), dim=-1)
        vals, idx = lp.topk(k)
        top = [(self.tokenizer.decode([int(i)]), float(v)) for v, i in zip(vals, idx)
               if float(v) != float("-inf")]
        return TokenLogprob(self.tokenizer.decode([token_id]), float(lp[token_id]), top)

    def _grammar(self, reqs: list[ChatRequest]):
        if self._llg is None or all(r.json_schema is None for r in reqs):
            return None
        llg = self._llg
        matchers: list[Any] = []
        for r in reqs:
            if r.json_schema is None:
                matchers.append(None)
                continue
            g = llg.LLMatcher.grammar_from_json_schema(
                r.json_schema, defaults={"whitespace_flexible": False})
            m = llg.LLMatcher(self._lltok, g)
            if m.get_error():
                raise InputError(f"the JSON schema cannot be compiled: {m.get_error()}")
            matchers.append(m)
        return _GrammarMask(llg, self._lltok, matchers)


class _RowsDone:
    """Stop each row at its own ``max_tokens`` (``generate`` only knows the batch's largest), so
    a one-token probability request does not keep a batch of verdicts decoding."""

    def __init__(self, prompt_len: int, max_tokens: list[int], eos_ids: set[int]):
        import torch

        self.prompt_len, self.eos = prompt_len, torch.tensor(sorted(eos_ids) or [-1])
        self.limit = torch.tensor(max_tokens)
        self.finished = torch.zeros(len(max_tokens), dtype=torch.bool)

    def __call__(self, input_ids, scores, **kwargs):
        import torch

        n = input_ids.shape[-1] - self.prompt_len
        last = input_ids[:, -1].cpu()
        self.finished |= torch.isin(last, self.eos) | (self.limit <= n)
        return self.finished.to(input_ids.device).clone()


class _GrammarMask:
    """A transformers logits processor: each constrained row may only take tokens its
    llguidance matcher allows (rows without a schema pass through)."""

    def __init__(self, llg, lltok, matchers):
        self.llg, self.matchers = llg, matchers
        import torch

        self.bitmask = llg.torch.allocate_token_bitmask(len(matchers), lltok.vocab_size)
        self.shifts = torch.arange(32, dtype=torch.int32)
        self.started = False

    def __call__(self, input_ids, scores):
        if self.started:
            last = input_ids[:, -1].tolist()
            for row, m in enumerate(self.matchers):
                if m is not None and not m.is_stopped():
                    m.consume_token(int(last[row]))
        self.started = True
        self.bitmask.fill_(-1)  # all allowed
        for row, m in enumerate(self.matchers):
            if m is not None:
                self.llg.torch.fill_next_token_bitmask(m, self.bitmask, row)
        # Unpack the 32-bit words here rather than with llguidance.torch's helper, which is
        # torch.compile'd: its first call compiles for tens of seconds on a CPU.
        bits = (self.bitmask.unsqueeze(-1) >> self.shifts) & 1
        allowed = bits.reshape(bits.shape[0], -1)[:, : scores.shape[-1]].to(scores.device)
        scores[:, allowed.shape[-1]:] = float("-inf")
        scores[:, : allowed.shape[-1]].masked_fill_(allowed == 0, float("-inf"))
        return scores


__all__ = ["HFBackend"]

