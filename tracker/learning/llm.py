"""ExtractorPatternAgent: ask an OpenAI-compatible LLM for a store's selectors.

Any server that speaks the OpenAI chat-completions API works (OpenAI, Ollama, vLLM,
llama.cpp): set `OPENAI_API_KEY`, optionally `OPENAI_BASE_URL` and `OPENAI_MODEL`. Without a
key, `agent_from_settings()` returns None and nothing else in PriceTracker changes.

Token budget: the page is trimmed (scripts, styles, SVG, navigation, the site's header,
footers, form controls, iframes and comments removed; attributes cut to the few that make good
selectors; whitespace compressed) to at most `PAGE_BUDGET_CHARS` = 16,000 characters, about
4,000 tokens at ~4 characters per token. When a page is longer, half the budget is the part
from just before the product title (`h1`) on, the other half snippets around price-like text
nearest the title (`bench/llm_calls.py` prints how often the real price survives this). With the instructions and the
answer, one round costs about 5,000 prompt tokens and under 300 completion tokens; a store
costs at most `MAX_ROUNDS` = 3 rounds, once per store (not per check).

Answers are untrusted: they are parsed as JSON, turned into a `PatternSpec`, and checked by
the caller's validator (selectors must be CSS or XPath 1.0 without functions that read files
or the network, match exactly one value, and agree with structured data). What was wrong goes
back to the model for another round.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import lxml.etree
import lxml.html
from django.conf import settings

from ..extraction.patterns import PatternSpec

log = logging.getLogger(__name__)

PAGE_BUDGET_CHARS = 16_000
MAX_ROUNDS = 3
MAX_ANSWER_CHARS = 20_000

_DROP_TAGS = (
    "script", "style", "svg", "noscript", "iframe", "nav", "footer", "template", "link",
    "select", "option", "input", "textarea", "canvas", "video", "audio", "picture", "source",
    "object", "embed",
)
# Text that looks like a price, or markup named for one: where the window's snippets go.
_PRICE_HINT = re.compile(
    r"(?:[$€£¥₹]|\b(?:USD|EUR|GBP|CHF|PLN|SEK|CAD|AUD|zł|kr)\b)\s?\d|\d[\d.,]*\s?(?:[$€£¥₹]|zł|kr\b|EUR\b|USD\b)"
    r"|itemprop=\"price|class=\"[^\"]*price",
    re.IGNORECASE,
)
_KEEP_ATTRS = ("id", "class", "itemprop", "itemtype", "content", "property", "name", "datetime")
_MAX_ATTR_CHARS = 60


class LLMUnavailable(Exception):
    """The LLM server could not answer (timeout, 5xx, connection refused). Worth retrying later."""


@dataclass
class CallStats:
    model: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    ok: bool = False
    error: str = ""
    duration_ms: int = 0


@dataclass
class SamplePage:
    url: str
    html: str


@dataclass
class AgentResult:
    spec: PatternSpec | None
    rounds: int = 0
    problems: list[str] = field(default_factory=list)
    calls: list[CallStats] = field(default_factory=list)

    @property
    def tokens(self) -> int:
        return sum(c.prompt_tokens + c.completion_tokens for c in self.calls)


def page_trim(html: str, *, budget_chars: int = PAGE_BUDGET_CHARS) -> str:
    """The page reduced to what helps find selectors, within `budget_chars`.

    When the trimmed page is still too long, half the budget goes to the window from just before
    the `h1` on, and the rest to snippets around price-like text and price-named markup, nearest
    the `h1` first, joined with " … ".
    """
    try:
        tree = lxml.html.fromstring(html)
    except (lxml.etree.ParserError, ValueError):
        return ""
    lxml.etree.strip_elements(tree, lxml.etree.Comment, lxml.etree.ProcessingInstruction, with_tail=False)
    for el in list(tree.iter(*_DROP_TAGS)):
        if el.getparent() is not None:
            el.drop_tree()
    for el in list(tree.iter("header")):
        # The site's banner goes; a product's own <header> (with its h1 and price) stays.
        if el.getparent() is not None and el.find(".//h1") is None:
            el.drop_tree()
    for el in list(tree.iter("meta")):
        # product meta tags help (og:price...), the rest is noise
        key = (el.get("property") or el.get("name") or el.get("itemprop") or "").lower()
        if not any(k in key for k in ("price", "currency", "availability", "title")):
            if el.getparent() is not None:
                el.drop_tree()
    for el in tree.iter():
        if not isinstance(el.tag, str):
            continue
        for name in list(el.attrib):
            if name not in _KEEP_ATTRS and not name.startswith("data-price"):
                del el.attrib[name]
            elif len(el.attrib[name]) > _MAX_ATTR_CHARS:
                el.attrib[name] = el.attrib[name][:_MAX_ATTR_CHARS]
    body = tree.find(".//body")
    root = body if body is not None else tree
    text = lxml.html.tostring(root, encoding="unicode")
    text = re.sub(r"\s+", " ", text)
    text = re.sub(r">\s+<", "><", text)
    if len(text) <= budget_chars:
        return text
    return _window(text, budget_chars)


def _window(text: str, budget: int) -> str:
    h1 = max(text.find("<h1"), 0)
    spans = [(max(0, h1 - budget // 10), min(len(text), h1 - budget // 10 + budget // 2))]
    used = spans[0][1] - spans[0][0]
    hits = sorted((m.start() for m in _PRICE_HINT.finditer(text, 0, min(len(text), 5_000_000))), key=lambda p: abs(p - h1))
    for pos in hits[:400]:
        start, end = max(0, pos - 500), min(len(text), pos + 250)
        if any(a <= pos < b for a, b in spans):
            continue
        if used + (end - start) + 3 > budget:
            break
        spans.append((start, end))
        used += end - start + 3
    spans.sort()
    merged: list[list[int]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return " … ".join(text[a:b] for a, b in merged)[:budget]


_FIELD_SCHEMA = {
    "type": ["object", "null"],
    "properties": {
        "selector": {"type": "string"},
        "kind": {"type": "string", "enum": ["css", "xpath"]},
        "attribute": {"type": ["string", "null"]},
    },
    "required": ["selector", "kind", "attribute"],
    "additionalProperties": False,
}
ANSWER_SCHEMA = {
    "type": "object",
    "properties": {
        "price": _FIELD_SCHEMA,
        "currency": _FIELD_SCHEMA,
        "availability": _FIELD_SCHEMA,
        "title": _FIELD_SCHEMA,
        "image": _FIELD_SCHEMA,
        "default_currency": {"type": ["string", "null"]},
    },
    "required": ["price", "currency", "availability", "title", "image", "default_currency"],
    "additionalProperties": False,
}

SYSTEM_PROMPT = """You write extraction selectors for one online shop's product pages.
Answer with one JSON object only, keys: price, currency, availability, title, image,
default_currency. Each field is null or {"selector": "...", "kind": "css" or "xpath",
"attribute": null or an attribute name to read instead of the text}.
Rules: the price selector must match exactly one element holding the CURRENT selling price of
the main product - never a crossed-out "was"/list price, a per-unit price, an instalment, a
shipping threshold or a price in recommendations. Prefer ids, itemprop and meaningful class
names; never use nth-child chains or generated class names. XPath 1.0 only, no functions
other than contains/normalize-space/starts-with/text. default_currency is an ISO 4217 code
when the page never prints a currency, else null."""


def answer_parse(text: str) -> PatternSpec:
    """Turn a model's answer into a PatternSpec; ValueError says what is wrong with it."""
    if not text or not text.strip():
        raise ValueError("the answer was empty")
    if len(text) > MAX_ANSWER_CHARS:
        raise ValueError("the answer was too long")
    body = text.strip()
    fenced = re.search(r"```(?:json)?\s*(.*?)```", body, re.S)
    if fenced:
        body = fenced.group(1)
    start, end = body.find("{"), body.rfind("}")
    if start < 0 or end <= start:
        raise ValueError("the answer was not a JSON object")
    try:
        data = json.loads(body[start : end + 1])
    except json.JSONDecodeError as exc:
        raise ValueError(f"the answer was not valid JSON ({exc.msg})") from exc
    if not isinstance(data, dict):
        raise ValueError("the answer was not a JSON object")
    for key in ("price", "currency", "availability", "title", "image"):
        value = data.get(key)
        if value is not None and not isinstance(value, dict):
            raise ValueError(f"{key} must be an object with selector, kind, attribute, or null")
        if isinstance(value, dict):
            if value.get("kind", "css") not in ("css", "xpath"):
                raise ValueError(f"{key}.kind must be css or xpath")
            if not isinstance(value.get("selector", ""), str):
                raise ValueError(f"{key}.selector must be a string")
            value.pop("post", None)  # post-processing rules are not taken from the model
    currency = data.get("default_currency")
    if currency is not None and not (isinstance(currency, str) and re.fullmatch(r"[A-Za-z]{3}", currency)):
        data["default_currency"] = None
    data.pop("extra", None)
    return PatternSpec.from_dict(data)


class ExtractorPatternAgent:
    """Asks the model for selectors and lets it correct itself from validation problems."""

    def __init__(
        self,
        *,
        api_key: str,
        base_url: str | None = None,
        model: str = "gpt-4o-mini",
        timeout: float = 60.0,
        max_rounds: int = MAX_ROUNDS,
        budget_chars: int = PAGE_BUDGET_CHARS,
    ) -> None:
        from openai import OpenAI

        self.model = model
        self.max_rounds = max_rounds
        self.budget_chars = budget_chars
        self.client = OpenAI(api_key=api_key, base_url=base_url, timeout=timeout, max_retries=0)
        # Structured output first; servers that refuse it get json_object, then plain text.
        self._formats: list[str] = ["json_schema", "json_object", "plain"]

    def propose(
        self,
        *,
        pages: Sequence[SamplePage],
        validate: Callable[[PatternSpec], list[str]],
        on_call: Callable[[CallStats], None] | None = None,
    ) -> AgentResult:
        """Up to `max_rounds` answers; returns the first that `validate` finds no problem with.

        Raises LLMUnavailable when the server cannot answer at all (nothing is saved then).
        """
        if not pages:
            return AgentResult(spec=None, problems=["no sample page to learn from"])
        trimmed = page_trim(pages[0].html, budget_chars=self.budget_chars)
        messages: list[dict] = [
            {"role": "system", "content": SYSTEM_PROMPT},
            {
                "role": "user",
                "content": f"Page URL: {pages[0].url}\nTrimmed HTML of the product page:\n{trimmed}",
            },
        ]
        result = AgentResult(spec=None)
        for round_no in range(1, self.max_rounds + 1):
            result.rounds = round_no
            text, stats = self._ask(messages)
            result.calls.append(stats)
            if on_call is not None:
                on_call(stats)
            if text is None:
                raise LLMUnavailable(stats.error)
            try:
                spec = answer_parse(text)
                problems = validate(spec)
            except ValueError as exc:
                problems = [str(exc)]
                spec = None
            if spec is not None and not problems:
                result.spec = spec
                result.problems = []
                return result
            result.problems = problems
            messages.append({"role": "assistant", "content": text[:MAX_ANSWER_CHARS]})
            messages.append(
                {
                    "role": "user",
                    "content": "That answer is not usable:\n- "
                    + "\n- ".join(problems[:10])
                    + "\nAnswer again with corrected JSON only.",
                }
            )
        return result

    def _ask(self, messages: list[dict]) -> tuple[str | None, CallStats]:
        import openai

        while True:
            fmt = self._formats[0]
            stats = CallStats(model=self.model)
            started = time.monotonic()
            kwargs: dict = {"model": self.model, "messages": messages, "temperature": 0}
            if fmt == "json_schema":
                kwargs["response_format"] = {
                    "type": "json_schema",
                    "json_schema": {"name": "extraction_pattern", "schema": ANSWER_SCHEMA, "strict": True},
                }
            elif fmt == "json_object":
                kwargs["response_format"] = {"type": "json_object"}
            try:
                response = self.client.chat.completions.create(**kwargs)
            except (openai.BadRequestError, openai.UnprocessableEntityError) as exc:
                stats.duration_ms = int((time.monotonic() - started) * 1000)
                if len(self._formats) > 1 and "response_format" in kwargs:
                    log.info("LLM server refused response_format=%s, falling back", fmt)
                    self._formats.pop(0)
                    continue
                stats.error = f"the LLM server refused the request: {exc}"[:500]
                return None, stats
            except openai.APITimeoutError:
                stats.duration_ms = int((time.monotonic() - started) * 1000)
                stats.error = "the LLM server did not answer in time"
                return None, stats
            except openai.APIStatusError as exc:
                stats.duration_ms = int((time.monotonic() - started) * 1000)
                stats.error = f"the LLM server answered HTTP {exc.status_code}"
                return None, stats
            except openai.APIError as exc:
                stats.duration_ms = int((time.monotonic() - started) * 1000)
                stats.error = f"the LLM server could not be reached: {exc}"[:500]
                return None, stats
            stats.duration_ms = int((time.monotonic() - started) * 1000)
            usage = getattr(response, "usage", None)
            if usage is not None:
                stats.prompt_tokens = int(usage.prompt_tokens or 0)
                stats.completion_tokens = int(usage.completion_tokens or 0)
            choice = response.choices[0] if response.choices else None
            text = (choice.message.content if choice is not None else None) or ""
            stats.ok = True
            return text, stats


def agent_from_settings() -> ExtractorPatternAgent | None:
    """The configured agent, or None when no API key is set (the LLM layer is then off)."""
    if not settings.OPENAI_API_KEY:
        return None
    return ExtractorPatternAgent(
        api_key=settings.OPENAI_API_KEY,
        base_url=settings.OPENAI_BASE_URL,
        model=settings.OPENAI_MODEL,
        timeout=settings.LLM_TIMEOUT,
    )


def llm_extract(*, html: str | bytes, result, url: str | None = None):
    """The LLM layer for `manage.py extract` (no database): when an agent is configured and no
    other layer found a price, ask for selectors, validate them on this page and read the price.

    Returns `result` unchanged when no API key is set; raises LLMUnavailable when the server
    cannot answer. Nothing is recorded (there may be no database).
    """
    agent = agent_from_settings()
    if agent is None:
        return result
    from ..extraction.parsing import parse_html
    from ..extraction.patterns import apply_pattern
    from ..extraction.validation import spec_problems

    text = html.decode("utf-8", "replace") if isinstance(html, bytes) else html
    page = SamplePage(url=url or "", html=text)
    answer = agent.propose(pages=[page], validate=lambda spec: spec_problems(spec, [page]))
    if answer.spec is None:
        result.reason = f"{result.reason or 'no price'}; LLM ({answer.rounds} rounds): {'; '.join(answer.problems[:2])}"
        return result
    match = apply_pattern(parse_html(text), answer.spec)
    result.price, result.currency = match.price, match.currency
    result.availability = match.availability or result.availability
    result.title = match.title or result.title
    result.method, result.confidence, result.reason = "llm", 0.7, None
    if hasattr(result, "selector"):
        result.selector = answer.spec.price.selector
    return result
