"""Pattern learning: each store gets an extraction pattern, learned once and reused for every
listing of the store (the pure application of a pattern is tracker/extraction/patterns.py).

- `learn`: heuristics first, then the LLM agent; a pattern is saved only when it validates.
- `llm`: the LLM agent that proposes patterns (any OpenAI-compatible server).
- `samples`: the latest fetched page of each listing, kept to learn and validate on.
- `health`: success/failure counts, probation, the daily re-validation.
- `reads`: the store's active pattern, read on every check.
- `by_shop`: saved pages read shop by shop with the pattern learned from them (`manage.py
  extract --by-shop`, `bench/extraction.py --by-shop`).
- `pattern_help` and `views`: helping a person find the price and save a pattern.
"""
