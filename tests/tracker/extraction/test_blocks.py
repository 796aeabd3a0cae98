"""Blocks that make an amount another offer, read from the page's structure: other products'
cards in a list, quantity tier tables."""

from decimal import Decimal

import pytest

from tracker.extraction import extract
from tracker.extraction.blocks import Cards, quantity_tiers
from tracker.extraction.dom import page_scan
from tracker.extraction.heuristics import heuristic_price
from tracker.extraction.parsing import parse_html


def _page(body: str):
    return parse_html(f'<html lang="en"><head><title>Cupcake Pan</title></head><body>{body}</body></html>')


def _card(name: str, price: str, cls: str = "item") -> str:
    return (
        f'<li class="{cls}"><a href="/p/{name.replace(" ", "-")}"><img alt="{name}" src="x.jpg"></a>'
        f'<span class="title"><a href="/p/{name.replace(" ", "-")}">{name}</a></span>'
        f'<span class="price">{price}</span></li>'
    )


# No class name says "related" or "recommended": only the structure does.
_LIST = "<div class='block'><h3>You might like</h3><ul>{}</ul></div>".format(
    _card("Satin Fondant Icing 20 Pounds", "$47.99") + _card("Ateco Cake Tester", "$1.39")
    + _card("Tylose Powder by CAI", "$4.79") + _card("White Cake Mix 5 Pounds", "$15.99")
)


def test_prices_in_a_list_of_product_cards_are_other_products():
    tree, = (_page(_LIST + "<div class='main'><h1>Cupcake Pan</h1><ul><li>Our Price</li><li><h2>$30.99</h2></li></ul></div>"),)
    found = heuristic_price(tree)
    assert found.price == Decimal("30.99")
    others = [c for c in found.candidates if c.amount != Decimal("30.99")]
    assert others and all(c.in_zone and "other product" in c.reasons for c in others)


def test_without_the_card_rule_the_list_would_compete():
    # The same cards one fewer than a list needs: they stay candidates and compete.
    few = "<ul>{}</ul>".format(_card("Satin Fondant Icing 20 Pounds", "$47.99") + _card("Ateco Cake Tester", "$1.39"))
    tree = _page(few + "<div class='main'><h1>Cupcake Pan</h1><ul><li>Our Price</li><li><h2>$30.99</h2></li></ul></div>")
    cards = Cards(page_scan(tree))
    price = next(el for el in tree.iter("span") if el.get("class") == "price")
    assert not cards.holds(price)


def test_look_alike_blocks_without_a_picture_and_name_link_are_not_cards():
    # Variant rows: look-alike and priced, with a link to a size guide but no product link.
    rows = "".join(f'<li class="variant"><label>{size}</label> <a href="/sizes">Size guide for {size}</a> '
                   f'<span>{price}</span></li>'
                   for size, price in (("Small", "$10.00"), ("Medium", "$12.00"), ("Large", "$14.00")))
    tree = _page(f"<h1>Cupcake Pan</h1><ul>{rows}</ul>")
    cards = Cards(page_scan(tree))
    assert not any(cards.holds(span) for span in tree.iter("span"))


def test_the_block_holding_the_title_is_never_a_card():
    # The product itself laid out as one of several look-alike columns, each priced and linked.
    columns = (
        '<div class="col"><h1>Cupcake Pan</h1><a href="/brand/wilton"><img alt="Wilton Bakeware logo">'
        'More from Wilton</a><span class="price">$30.99</span></div>'
        '<div class="col"><a href="/p/tester"><img alt="Ateco Cake Tester"></a><span>$1.39</span></div>'
        '<div class="col"><a href="/p/powder"><img alt="Tylose Powder by CAI"></a><span>$4.79</span></div>'
    )
    tree = _page(f"<div class='row'>{columns}</div>")
    page = page_scan(tree)
    cards = Cards(page)
    own = next(el for el in tree.iter("span") if el.get("class") == "price")
    assert not cards.holds(own)


def test_a_product_list_below_a_tier_table_gives_no_price():
    # The product's own price depends on the quantity; the cards below it show other products'
    # "Regular Price" and "Sale Price": none of them is this product's price.
    cards = "".join(
        f'<div class="product"><a href="/item/{n}"><img src="{n}.jpg"></a>'
        f'<div class="description"><a href="/item/{n}">Bead, acrylic, '
        f'multicolored, {n}mm flat round</a></div><div class="pricing"><div>Regular Price: '
        f'<strong class="price-text">$3.68</strong></div><div><strong>Sale Price: </strong>'
        f'<strong class="price-text">$1.00</strong></div></div></div>'
        for n in (30, 32, 34)
    )
    tiers = (
        '<table class="multiPrice"><tr><th>1 - 14</th><th>15 - 49</th><th>50 - 99</th><th>100+</th></tr>'
        "<tr><td>$3.46</td><td>$2.49</td><td>$1.71</td><td>$1.44</td></tr></table>"
    )
    html = (f"<html><head><title>Bead, acrylic</title></head><body><div id='details'><h1>Bead, acrylic, "
            f"multicolored, 32mm</h1>{tiers}</div><div class='standard'>{cards}</div></body></html>")
    result = extract(html)
    assert result.price is None
    assert "quantity tier" in result.reason


@pytest.mark.parametrize(
    "block",
    [
        "<table><tr><th>1 - 14</th><th>15 - 49</th><th>100+</th></tr>"
        "<tr><td>$3.46</td><td>$2.49</td><td>$1.44</td></tr></table>",
        "<ul><li>1-9 pcs: <b>€4.00</b></li><li>10-49 pcs: <b>€3.50</b></li><li>50+ pcs: <b>€3.00</b></li></ul>",
        "<table><tr><td>ab 1 bis 9 Stück</td><td>4,00 €</td></tr><tr><td>10 bis 49</td><td>3,50 €</td></tr></table>",
    ],
)
def test_amounts_paired_with_quantity_ranges_are_tiers(block):
    tree = _page(f"<h1>Cupcake Pan</h1>{block}")
    found = heuristic_price(tree)
    assert found.price is None
    assert "quantity tier" in found.reason
    assert all(quantity_tiers(c.element) for c in found.candidates if c.rejected is None)


@pytest.mark.parametrize(
    "block",
    [
        # A price and its was price: two amounts, no quantities.
        '<div class="price"><del>$40.00</del> <b>$30.00</b></div>',
        # A size range and a year beside one price.
        '<div class="price">Sizes 38-42, model 2019 <b>$30.00</b></div>',
        # One quantity and one amount: "2 for" offers are judged elsewhere; no tier table here.
        '<div class="price"><b>$30.00</b> <span>Qty 1+</span></div>',
    ],
)
def test_blocks_without_several_amounts_and_quantities_are_not_tiers(block):
    tree = _page(f"<h1>Cupcake Pan</h1>{block}")
    found = heuristic_price(tree)
    assert found.price == Decimal("30.00")


def test_a_long_section_among_look_alike_sections_is_not_a_card():
    # The buy box as one of several look-alike sections, with a brand logo link: it holds the
    # product's description and options, far more text than a card in a list.
    description = "<p>" + "Heavy cast aluminium pan that bakes a giant cupcake in two halves. " * 20 + "</p>"
    sections = (
        '<div class="section"><a href="/brand/wilton"><img alt="Wilton Bakeware logo"></a>'
        f'<span class="price">$30.99</span>{description}</div>'
        '<div class="section"><a href="/p/tester"><img alt="Ateco Cake Tester"></a><span>$1.39</span></div>'
        '<div class="section"><a href="/p/powder"><img alt="Tylose Powder by CAI"></a><span>$4.79</span></div>'
    )
    tree = _page(f"<div class='head'><h1>Cupcake Pan</h1></div><div class='body'>{sections}</div>")
    cards = Cards(page_scan(tree))
    own = next(el for el in tree.iter("span") if el.get("class") == "price")
    assert not cards.holds(own)
