"""The REST API's tracker side: tokens, and the routers for products, listings and history.

`config/api.py` puts these routers together with the deals routers into one NinjaAPI."""
