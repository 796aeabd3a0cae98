import struct
import zlib

from deals.notifications.chart import price_chart_png


def test_the_chart_is_a_valid_png_of_the_stated_size_with_a_drawn_line():
    png = price_chart_png([100, 95, 97, 80], width=200, height=80)
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    width, height = struct.unpack(">II", png[16:24])
    assert (width, height) == (200, 80)
    idat_len = struct.unpack(">I", png[33:37])[0]
    assert png[37:41] == b"IDAT"
    raw = zlib.decompress(png[41 : 41 + idat_len])
    assert len(raw) == height * (1 + width * 3)
    assert bytes((37, 99, 235)) in raw  # the price line's colour is there


def test_a_single_price_still_makes_a_chart():
    assert price_chart_png([10]).startswith(b"\x89PNG")
