"""The DOM-only price finder (the selectors it derives: test_locators.py)."""

from decimal import Decimal

import pytest

from tracker.extraction.heuristics import heuristic_price
from tracker.extraction.parsing import parse_html


def _find(body: str, *, lang: str = "en"):
    tree = parse_html(f'<html lang="{lang}"><head><title>Teapot</title></head><body>{body}</body></html>')
    return tree, heuristic_price(tree)


def test_it_picks_the_price_next_to_the_title_not_the_recommendations():
    tree, found = _find(
        '<div class="product"><h1>Teapot</h1><span class="price">$30.00</span></div>'
        '<div class="related-products"><span class="price">$12.00</span><span class="price">$14.00</span></div>'
    )
    assert found.price == Decimal("30.00")
    assert found.currency == "USD"


@pytest.mark.parametrize(
    "markup",
    [
        '<del>$40.00</del> <span class="price">$30.00</span>',
        '<s>$40.00</s> <span class="price">$30.00</span>',
        '<span class="old-price">$40.00</span> <span class="price">$30.00</span>',
        '<span class="price was">$40.00</span> <span class="price">$30.00</span>',
        '<span class="price"><span class="compare-at">$40.00</span></span> <span class="price">$30.00</span>',
        '<span style="text-decoration:line-through">$40.00</span> <span class="price">$30.00</span>',
        '<span class="price">$30.00</span> <span>RRP: $40.00</span>',
        '<span class="price">$30.00</span> <span>List price: $40.00</span>',
    ],
)
def test_it_ignores_the_was_price(markup):
    _, found = _find(f"<h1>Teapot</h1><div class='buy'>{markup}</div>")
    assert found.price == Decimal("30.00")


@pytest.mark.parametrize(
    "trap",
    [
        "<p>$3.00 / 100 g</p>",
        "<p>($6.00 per kg)</p>",
        "<p>Free shipping over $50.00</p>",
        "<p>or 4 payments of $7.50 with Klarna</p>",
        "<p>4 x $7.50</p>",
        "<p>Save $10.00</p>",
        "<p>Shipping: $4.95</p>",
        "<p>$5.00 off with code TEA</p>",
        "<p>Members price $27.00</p>",
        '<p class="installments">10x de $3,00</p>',
        '<p style="display:none">$99.00</p>',
        "<p hidden>$99.00</p>",
        '<p class="hidden">$99.00</p>',
        "<p>You save: <b>$17.01 (61%)</b></p>",
        '<div class="bulk-buy">Buy all 5 books: $48.00</div>',
    ],
)
def test_it_rejects_prices_that_are_not_the_product_price(trap):
    _, found = _find(f'<h1>Teapot</h1><div class="buy"><span class="price">$30.00</span>{trap}</div>')
    assert found.price == Decimal("30.00")


def test_it_gives_up_on_a_range():
    _, found = _find('<h1>Teapot</h1><p class="price">$20.00 – $40.00</p>')
    assert found.price is None
    assert "range" in found.reason


def test_it_gives_up_when_two_prices_are_equally_likely():
    _, found = _find('<h1>Teapot</h1><p><span class="price">$20.00</span></p><p><span class="price">$40.00</span></p>')
    assert found.price is None
    assert "compete" in found.reason


def test_it_gives_up_on_a_page_without_prices():
    _, found = _find("<h1>Teapot</h1><p>Call us for a quote.</p>")
    assert found.price is None
    assert found.reason


def test_sale_pair_picks_the_lower_price_when_the_block_says_sale():
    _, found = _find('<h1>Teapot</h1><div class="prices"><span>$40.00</span> <span>$30.00</span> <em>25% off</em></div>')
    assert found.price == Decimal("30.00")


def test_euro_page_reads_comma_decimals():
    _, found = _find('<h1>Teekanne</h1><div class="preis">1.299,00 €</div>', lang="de")
    assert found.price == Decimal("1299.00")
    assert found.currency == "EUR"


def test_superscript_cents_are_read():
    _, found = _find('<h1>Teapot</h1><div class="price">$31<sup>57</sup></div>')
    assert found.price == Decimal("31.57")


def test_split_spans_are_read_as_one_price():
    _, found = _find('<h1>Teapot</h1><div class="price"><span>$</span><span>37</span><span>.</span><span>30</span></div>')
    assert found.price == Decimal("37.30")


def test_dollar_with_a_canadian_hint_is_cad():
    tree = parse_html('<html lang="en-CA"><body><h1>Teapot</h1><span class="price">$30.00</span></body></html>')
    assert heuristic_price(tree, currency_hint="CAD").currency == "CAD"


def test_candidates_are_bounded_on_pages_full_of_prices():
    body = "<h1>Teapot</h1>" + "".join(f'<li class="tile"><span>${i}.00</span></li>' for i in range(1, 3000))
    _, found = _find(body)
    assert len(found.candidates) <= 400


def test_a_discount_badge_after_the_sale_price_does_not_make_it_a_saving():
    _, found = _find('<h1>Teapot</h1><div class="price"><del>$79.99</del> <b>$39.99</b> (-50%)</div>')
    assert found.price == Decimal("39.99")


def test_megabytes_of_flat_price_junk_stay_bounded():
    body = "<h1>Teapot</h1>" + '<li><a href="/x">item</a> <span>$2.00</span></li>' * 30_000
    _, found = _find(body)
    assert len(found.candidates) <= 400


def test_sale_pair_with_its_saving_printed_beside_it():
    _, found = _find('<h1>Teapot</h1><div class="prices"><span>$40.00</span> <span>$30.00</span> <em>Save $10.00</em></div>')
    assert found.price == Decimal("30.00")


@pytest.mark.parametrize(
    "choices",
    [
        "<select><option selected>Single (£1,049.00)</option><option>Double (£1,898.99)</option>"
        "<option>King (£2,199.00)</option></select>",
        '<label><input type="radio" name="size">Single £1,049.00</label>'
        '<label><input type="radio" name="size">King £2,199.00</label>',
        "<button>Single £1,049.00</button><button>King £2,199.00</button>",
    ],
    ids=["select", "radio labels", "buttons"],
)
def test_a_from_price_over_a_list_of_sizes_with_their_prices_is_no_single_price(choices):
    _, found = _find(
        '<h1>Mattress</h1><table><tr><td><span class="price">From £1,049.00</span></td></tr>'
        f"<tr><td>{choices}</td></tr></table>"
    )
    assert found.price is None
    assert "range" in found.reason


def test_a_from_price_without_a_list_of_options_is_the_price():
    _, found = _find(
        '<h1>Mattress</h1><table><tr><td><span class="price">From £1,049.00</span></td></tr>'
        "<tr><td><select><option selected>Single</option><option>Double</option></select></td></tr></table>"
    )
    assert found.price == Decimal("1049.00")


def test_a_price_named_including_tax_is_the_price_and_excluding_tax_is_not():
    _, found = _find(
        '<h1>Teapot</h1><div class="price-box"><span class="price-excluding-tax">4,92 €</span>'
        '<span class="price-including-tax">5,95 €</span></div>',
        lang="de",
    )
    assert found.price == Decimal("5.95")


@pytest.mark.parametrize(
    ("markup", "price"),
    [
        (
            '<span class="price-group" aria-label="$37.30"><span>$</span><span aria-hidden="true">37</span>'
            '<span aria-hidden="true">.</span><span aria-hidden="true">30</span></span>',
            "37.30",
        ),
        ('<span class="price"><span class="offscreen">$30.00</span><span aria-hidden="true">$31.00</span></span>', "30.00"),
    ],
    ids=["pieces the parent's aria-label speaks for are visible", "a duplicate of screen-reader text is not"],
)
def test_aria_hidden_price_pieces(markup, price):
    _, found = _find(f'<h1>Teapot</h1><div class="buy">{markup}</div>')
    assert found.price == Decimal(price)


@pytest.mark.parametrize(
    "other_offer",
    [
        '<div class="prod-SellerOffer"><div><div><div><span class="price">$50.51</span></div></div></div></div>',
        '<a href="/other"><div><div><div><span class="price">$50.51</span></div></div></div></a>',
    ],
    ids=["deep in a block named for other sellers", "deep inside a link"],
)
def test_an_offer_far_below_a_seller_block_or_a_link_does_not_compete_with_the_buy_box(other_offer):
    _, found = _find(
        '<h1>Teapot</h1><div class="buy-box"><div><div><div><span class="price">$37.30</span></div></div></div></div>'
        + other_offer
    )
    assert found.price == Decimal("37.30")


def test_a_saving_whose_percentage_follows_its_price_block_is_not_the_price():
    def amazon_price(amount: str) -> str:
        return f'<span class="a-price"><span class="a-offscreen">{amount}</span><span aria-hidden="true">{amount}</span></span>'

    _, found = _find(
        f'<h1>Teapot</h1><table class="buy"><tr><td>Price:</td><td>{amazon_price("$431.90")}</td></tr>'
        f'<tr><td>You save:</td><td class="a-color-price"><span class="a-color-price">{amazon_price("$48.00")} (10%)</span>'
        "</td></tr></table>"
    )
    assert found.price == Decimal("431.90")


@pytest.mark.parametrize("block", ["a-popover-preload", "price-tooltip"])
def test_a_price_breakdown_in_a_popover_or_tooltip_does_not_compete_with_the_price(block):
    _, found = _find(
        '<h1>Mat</h1><div class="buy a-popover-trigger has-tooltip"><span class="price">AED 127.16</span></div>'
        f'<div class="{block}"><table><tr><td>Item:</td><td><span class="price">AED 120.80</span></td></tr>'
        '<tr><td>Import charges:</td><td><span class="price">AED 6.36</span></td></tr></table></div>'
    )
    assert found.price == Decimal("127.16")


@pytest.mark.parametrize(
    ("net", "gross", "lang"),
    [
        ("<p>Netto: 100,00 €</p>", "<p>Brutto: 119,00 €</p>", "de"),
        ("<p>exkl. MwSt. 100,00 €</p>", "<p>inkl. MwSt. 119,00 €</p>", "de"),
        ("<p>excl. BTW: 100,00 €</p>", "<p>incl. BTW: 119,00 €</p>", "nl"),
        ("<p>100,00 € HT</p>", "<p>119,00 € TTC</p>", "fr"),
    ],
    ids=["netto", "exkl. MwSt", "excl. BTW", "HT"],
)
def test_the_price_before_tax_is_not_the_price(net, gross, lang):
    _, found = _find(f'<h1>Teapot</h1><div class="buy">{net}{gross}</div>', lang=lang)
    assert found.price == Decimal("119.00")


def _key_value_rows(*rows: tuple[str, str]) -> str:
    return "<table>" + "".join(f"<tr><td>{key}</td><td><font>{value}</font></td></tr>" for key, value in rows) + "</table>"


@pytest.mark.parametrize(
    ("rows", "price"),
    [
        # The label names the whole value cell, a note between them ("Custom-Made!") or not.
        ((("PRODUCT ID:", "HSBU2546R"), ("UNIT PRICE:", "Custom-Made! $180.00"), ("AVAILABILITY:", "7-10 Days")),
         Decimal("180.00")),
        ((("List Price:", "$200.00"), ("Price:", "Sale! $150.00")), Decimal("150.00")),
    ],
)
def test_a_price_label_in_the_cell_before_names_the_amount(rows, price):
    _, found = _find(_key_value_rows(*rows))
    assert found.price == price


@pytest.mark.parametrize(
    "rows",
    [
        # Another kind of label in the cell before: not the price.
        (("Product ID:", "Custom-Made! $180.00"),),
        (("Shipping price:", "Flat rate $180.00"),),
        (("Old price:", "Custom-Made! $180.00"),),
        # Other wording anywhere before the price label in the cell.
        (("Shipping & handling price:", "Custom-Made! $180.00"),),
        (("Monthly price:", "Custom-Made! $180.00"),),
        # A value cell with two amounts: the label does not say which.
        (("Price:", "Custom-Made! $180.00 or $150.00 each"),),
    ],
)
def test_a_label_cell_counts_only_when_it_labels_one_price(rows):
    _, found = _find(_key_value_rows(*rows))
    assert found.price is None


def test_a_japanese_from_price_alone_is_the_price():
    # "1,280円から" ("from 1,280 yen") with no list of options: the product's one price, as
    # "From $12.80" is.
    _, found = _find('<h1>Teapot</h1><p class="price">1,280円から</p>', lang="ja")
    assert (found.price, found.currency) == (Decimal("1280"), "JPY")


def test_a_japanese_from_price_over_options_with_prices_is_refused():
    _, found = _find(
        '<h1>Teapot</h1><p class="price">1,280円から</p>'
        "<ul><li><label>S 1,280円</label></li><li><label>L 1,580円</label></li></ul>",
        lang="ja",
    )
    assert found.price is None
    assert "list of options" in found.reason


@pytest.mark.parametrize(
    ("lang", "price", "other"),
    [
        # Amounts with the sign after them and a word right after the sign are read, so the
        # wording right after the sign must still tell what they are: points, a shipping
        # threshold, a discount, a coupon.
        ("ja", "9,800円", "1,000円分のポイント"),
        ("ja", "9,800円", "3,000円以上で送料無料"),
        ("ja", "9,800円", "500円引き"),
        ("ko", "99,000원", "5,000원적립"),
        ("ko", "99,000원", "3,000원할인"),
        ("ko", "99,000원", "5,000원쿠폰"),
        ("zh", "498元", "20元券"),
        ("zh", "498元", "99元包邮"),
    ],
)
def test_words_right_after_a_sign_written_after_the_amount_still_say_what_it_is(lang, price, other):
    # Both in price blocks, the other amount first and lower: unrecognised, it would compete.
    _, found = _find(
        f'<h1>Teapot</h1><div class="price-box"><div class="price"><span>{other}</span></div>'
        f'<div class="price"><span>{price}</span></div></div>',
        lang=lang,
    )
    assert found.price == Decimal(price.rstrip("円원元").replace(",", ""))
