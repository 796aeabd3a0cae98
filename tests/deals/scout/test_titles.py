import pytest

from deals.scout.titles import parse_query, title_matches


@pytest.mark.parametrize(
    "query, title",
    [
        ("rtx 4070", "MSI GeForce RTX 4070 Ventus 2X 12G"),
        ("rtx 4070", "RTX4070 Founders Edition"),
        ("4070 rtx", "Gigabyte geforce rtx 4070 eagle"),
        ("rtx 4070", "ASUS Dual RTX 4070 Ti OC"),
        ("WH-1000XM5", "Sony WH1000XM5 wireless headphones"),
        ("wh1000xm5", "SONY WH-1000XM5/B Noise Cancelling"),
        ("wh 1000xm5", "Sony WH 1000 XM5 (black)"),
        ("sony headphones", "Sony over-ear Headphone WH-CH720N"),
        ('"noise cancelling" sony', "Sony Noise-Cancelling Earbuds"),
        ("café", "Cafe grinder Baratza"),
        ("iphone 15 -case", "Apple iPhone 15 128GB Blue"),
        ("PS5", "Sony PlayStation PS-5 slim"),
    ],
)
def test_it_matches_whatever_the_order_case_and_spelling(query, title):
    assert title_matches(query, title)


@pytest.mark.parametrize(
    "query, title",
    [
        ("rtx 4070 -laptop", "Lenovo Legion laptop with RTX 4070"),
        ("rtx 4070", "RTX 40700 does not exist"),
        ("rtx 4070", "RTX 3070 Ti"),
        ("iphone 15 -case", "Spigen case for iPhone 15"),
        ("WH-1000XM5", "Sony WH-1000XM4"),
        ("sony headphones", "Bose headphones 700"),
        ('"noise cancelling" sony', "Sony cancelling noise machine"),
        ("", "anything at all"),
        ("-laptop", "a desktop"),
    ],
)
def test_it_does_not_match_excluded_missing_or_different_models(query, title):
    assert not title_matches(query, title)


def test_an_unbalanced_quote_is_read_as_plain_words():
    query = parse_query('"rtx 4070')
    assert [t.squashed for t in query.include] == ["rtx", "4070"]
