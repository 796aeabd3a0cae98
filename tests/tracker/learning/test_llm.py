"""The LLM pattern agent against a scripted OpenAI-compatible server on 127.0.0.1 (real HTTP,
the real `openai` client). Only validated patterns become active; tokens are recorded."""

from __future__ import annotations

import json

import pytest

from tests.tracker.fake_llm import FakeLLM, answer
from tests.tracker.shop_pages import shop_page
from tracker.learning import learn
from tracker.learning.llm import PAGE_BUDGET_CHARS, ExtractorPatternAgent, agent_from_settings, page_trim
from tracker.models import ExtractionPattern, Listing, ListingPage, LLMCall, Product, Store

pytestmark = pytest.mark.django_db


@pytest.fixture
def store(user):
    store = Store.objects.create(domain="shop.test")
    product = Product.objects.create(owner=user, name="things")
    for i in range(2):
        listing = Listing.objects.create(product=product, store=store, url=f"https://shop.test/p/{i}")
        ListingPage.objects.create(listing=listing, url=listing.url, html=shop_page(i))
    return store


@pytest.fixture(autouse=True)
def no_heuristics(monkeypatch):
    # These tests are about the LLM layer: the heuristics must not answer first.
    monkeypatch.setattr(learn, "_heuristic_specs", lambda pages: [])


def agent_for(fake: FakeLLM, *, timeout: float = 5.0) -> ExtractorPatternAgent:
    return ExtractorPatternAgent(api_key="test-key", base_url=fake.base_url, model="test-model", timeout=timeout)


def active(store):
    return ExtractionPattern.objects.filter(store=store, status="active").first()


def test_a_good_answer_becomes_the_active_pattern_and_tokens_are_recorded(store):
    with FakeLLM([{"content": answer(".price-now")}]) as fake:
        learned = learn.pattern_learn(store=store, agent=agent_for(fake))
    pattern = active(store)
    assert pattern is not None and learned.pattern == pattern
    assert pattern.source == "llm" and pattern.spec["price"]["selector"] == ".price-now"
    assert sorted(pattern.validated_on) == ["https://shop.test/p/0", "https://shop.test/p/1"]
    call = LLMCall.objects.get()
    assert call.ok and call.store == store and call.prompt_tokens > 100 and call.completion_tokens > 0
    request = fake.completions[0]
    assert request["response_format"]["type"] == "json_schema"
    sent = request["messages"][-1]["content"]
    assert "Alder Desk Chair" in sent and "tracking" not in sent and "<footer" not in sent
    store.refresh_from_db()
    assert store.extraction_status == "ok"


def test_invalid_json_goes_back_to_the_model_with_what_was_wrong(store):
    script = [{"content": "Sure! The price is in span.price-now {oops"}, {"content": answer(".price-now")}]
    with FakeLLM(script) as fake:
        learned = learn.pattern_learn(store=store, agent=agent_for(fake))
    assert learned.pattern is not None and learned.llm_calls == 2
    second = fake.completions[1]["messages"]
    assert "not valid JSON" in second[-1]["content"] or "not a JSON object" in second[-1]["content"]
    assert LLMCall.objects.count() == 2


def test_selectors_that_match_nothing_are_never_saved_after_three_rounds(store):
    with FakeLLM([{"content": answer(".no-such-price")}]) as fake:
        learned = learn.pattern_learn(store=store, agent=agent_for(fake))
    assert learned.pattern is None and len(fake.completions) == 3
    assert "matches nothing" in fake.completions[1]["messages"][-1]["content"]
    assert not ExtractionPattern.objects.filter(store=store).exists()
    store.refresh_from_db()
    assert store.extraction_status == "needs_pattern"
    assert LLMCall.objects.filter(store=store).count() == 3


def test_the_was_price_is_refused_and_the_model_corrects_itself(store):
    script = [{"content": answer("del.was")}, {"content": answer(".price-box .price-now")}]
    with FakeLLM(script) as fake:
        learned = learn.pattern_learn(store=store, agent=agent_for(fake))
    assert "was" in fake.completions[1]["messages"][-1]["content"]
    assert learned.pattern.spec["price"]["selector"] == ".price-box .price-now"
    assert ExtractionPattern.objects.filter(store=store).count() == 1  # the was-price one never saved


def test_a_price_that_disagrees_with_structured_data_is_refused(user, store):
    listing = Listing.objects.create(product=Product.objects.create(owner=user, name="x"), store=store, url="https://shop.test/p/2")
    # The structured data says 39.00 while the visible price the selector reads is 45.99.
    ListingPage.objects.create(listing=listing, url=listing.url, html=shop_page(2, structured=True).replace(
        '"price": "45.99"', '"price": "39.00"'))
    with FakeLLM([{"content": answer(".price-now")}]) as fake:
        learned = learn.pattern_learn(store=store, agent=agent_for(fake))
    assert learned.pattern is None
    assert "structured data says 39.00" in fake.completions[1]["messages"][-1]["content"]


def test_an_unsafe_xpath_is_refused(store):
    evil = answer("document('file:///etc/passwd')//x", kind="xpath")
    with FakeLLM([{"content": evil}, {"content": answer("//span[@class='price-now']", kind="xpath")}]) as fake:
        learned = learn.pattern_learn(store=store, agent=agent_for(fake))
    assert "document" in fake.completions[1]["messages"][-1]["content"]
    assert learned.pattern.spec["price"] == {"selector": "//span[@class='price-now']", "kind": "xpath", "attribute": None, "post": None}


def test_a_timeout_saves_nothing_and_is_recorded(store):
    with FakeLLM([{"delay": 2.0, "content": answer(".price-now")}]) as fake:
        learned = learn.pattern_learn(store=store, agent=agent_for(fake, timeout=0.5))
    assert learned.pattern is None and "in time" in learned.llm_error
    call = LLMCall.objects.get()
    assert not call.ok and "in time" in call.error
    assert not ExtractionPattern.objects.exists()


def test_a_server_error_saves_nothing_and_the_task_retries_later(store):
    from tracker.learning.llm import LLMUnavailable
    from tracker.tasks import generate_pattern

    with FakeLLM([{"status": 500}]) as fake, pytest.MonkeyPatch.context() as mp:
        mp.setattr("tracker.learning.learn.agent_from_settings", lambda: agent_for(fake))
        with pytest.raises(LLMUnavailable):
            generate_pattern.run(store.pk)
    assert "HTTP 500" in LLMCall.objects.get().error
    assert not ExtractionPattern.objects.exists()


def test_servers_without_structured_output_get_json_object(store):
    with FakeLLM([{"content": "```json\n" + json.dumps(answer(".price-now")) + "\n```"}], refuse_formats=("json_schema",)) as fake:
        learned = learn.pattern_learn(store=store, agent=agent_for(fake))
    assert learned.pattern is not None
    assert fake.completions[0]["response_format"] == {"type": "json_object"}


def test_without_an_api_key_learning_uses_no_llm(store, settings):
    settings.OPENAI_API_KEY = ""
    assert agent_from_settings() is None
    learned = learn.pattern_learn(store=store)
    assert learned.pattern is None and not LLMCall.objects.exists()


def test_the_configured_server_is_used_when_a_key_is_set(store, settings):
    with FakeLLM([{"content": answer(".price-now")}]) as fake:
        settings.OPENAI_API_KEY, settings.OPENAI_BASE_URL, settings.OPENAI_MODEL = "k", fake.base_url, "local-model"
        learned = learn.pattern_learn(store=store)
    assert learned.pattern is not None and fake.completions[0]["model"] == "local-model"


def test_the_trimmed_page_keeps_the_price_within_the_budget():
    filler = "<div class='review'><p>" + "great chair " * 40 + "</p></div>"
    html = shop_page(0).replace("<footer>", filler * 200 + "<footer>")
    trimmed = page_trim(html)
    assert len(trimmed) <= PAGE_BUDGET_CHARS
    assert "price-now" in trimmed and "$149.00" in trimmed
    assert "<script" not in trimmed and "<style" not in trimmed and "a comment" not in trimmed


def test_manage_py_extract_asks_the_llm_only_when_configured_and_not_with_no_llm(tmp_path, settings):
    from io import StringIO

    from django.core.management import call_command

    page = tmp_path / "bare.html"
    page.write_text("<html><body><h1>Thing</h1><div class='cost'>Cost: 15.00</div><div class='ref'>Ref 12</div></body></html>")
    with FakeLLM([{"content": answer(".cost")}]) as fake:
        settings.OPENAI_API_KEY, settings.OPENAI_BASE_URL = "k", fake.base_url
        off = StringIO()
        call_command("extract", str(page), "--no-llm", stdout=off)
        assert json.loads(off.getvalue())["price"] is None and not fake.completions
        on = StringIO()
        call_command("extract", str(page), stdout=on)
    row = json.loads(on.getvalue())
    assert (row["price"], row["layer"]) == ("15.00", "llm") and len(fake.completions) == 1


def test_a_price_far_from_the_title_on_a_long_page_stays_in_the_trimmed_page():
    filler = "<div class='spec'><p>" + "solid oak, hand finished " * 40 + "</p></div>"
    html = (
        "<html><body><h1>Oak Table</h1>" + filler * 60
        + "<div class='buy'><span class='amount'>€ 1.299,00</span></div>" + filler * 60 + "</body></html>"
    )
    trimmed = page_trim(html)
    assert len(trimmed) <= PAGE_BUDGET_CHARS and "Oak Table" in trimmed
    assert "<span class=\"amount\">€ 1.299,00</span>" in trimmed
