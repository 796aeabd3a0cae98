"""`python -m demoshop [--host H] [--port P] [--theme v1|v2]`: the demo shop without Django.

`manage.py demoshop` is the guarded way to run it (it refuses unless switched on); this entry
point is for benchmarks and quick looks on a development machine.
"""

from __future__ import annotations

import argparse

from .catalogue import PRICE_PERIOD_MINUTES, PRODUCTS
from .pages import THEMES
from .server import make_server


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m demoshop")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001)
    parser.add_argument("--theme", choices=THEMES, default="v1")
    args = parser.parse_args()
    shop = make_server(args.host, args.port, theme=args.theme)
    print(
        f"Demo shop on {shop.url}/ ({len(PRODUCTS)} products, theme {args.theme}, "
        f"prices move every {PRICE_PERIOD_MINUTES} min). Ctrl-C stops it.",
        flush=True,
    )
    try:
        shop.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        shop.close()


if __name__ == "__main__":
    main()
