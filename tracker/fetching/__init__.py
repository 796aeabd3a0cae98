"""The one gate every outgoing HTTP request of PriceTracker goes through.

People type the URLs we fetch, and we fetch them from inside their network. So:

- `validate_url` checks the form: http/https only, no credentials, no backslashes or control
  characters, no odd IP spellings (`2130706433`, `0x7f.1`, `127.1`).
- The host name is resolved once, every answer is checked against `address_refusal`, and the
  connection is pinned to the checked address (requests-hardened's adapter design: the pool
  connects to the IP, the `Host` header and TLS SNI keep the name). After connecting, the peer
  address of the socket is compared with the checked one. There is no second, separate lookup.
- Redirects are followed by hand, at most `FETCH_MAX_REDIRECTS`, each hop validated and
  gated again.
- Connect and read timeouts, a wall-clock deadline for the whole download (a watchdog shuts
  the socket down), and a body cap counted after decompression.

Entry points: `fetch_page` (product pages: HTML only, block pages refused), `safe_get` (any
other GET: robots.txt, deal feeds, pattern learning; JSON on request), `safe_request` (e.g.
webhook POSTs) and `gate_session` (a `requests.Session` with the address gate mounted, for code
that must hand a session to a library).

The package: `addresses` (address policy, resolution, URL form), `gate` (the pinned adapter and
the deadline watchdog), `body` (size-capped reading, decoding), `client` (requests with
redirects and limits), `results` (FetchResult, FetchError, CheckSkipped).

Being polite to each shop sits beside the gate: `politeness` (`listing_fetch`, what a check
calls), `robots` (robots.txt), `circuit` (the per-store circuit breaker), `pacing` (pace and
concurrency shared by every worker), `blocking` (block-page detection) and `rendering`
(headless browser for stores that need JavaScript) and `proxies` (a store's proxy, stored
encrypted; `safe_request(proxy=...)` sends through it). Import them by module; this package's
namespace stays the gate's, so importing it does not start the rest.
"""

from .addresses import GateRefused, address_refusal, resolve_checked, validate_url
from .body import decode_body
from .client import fetch_page, parse_retry_after, refuse_block_page, safe_get, safe_request
from .gate import GateAdapter, gate_session
from .results import CheckSkipped, FetchError, FetchResult

__all__ = [
    "CheckSkipped",
    "FetchError",
    "FetchResult",
    "GateAdapter",
    "GateRefused",
    "address_refusal",
    "decode_body",
    "fetch_page",
    "gate_session",
    "parse_retry_after",
    "refuse_block_page",
    "resolve_checked",
    "safe_get",
    "safe_request",
    "validate_url",
]
