"""The words and labels around a printed amount that say what it is: the current price, a
"was" price, a saving, a per-unit or shipping amount, an instalment, another seller's offer.
Shared by the heuristics and the checks of a known price against the page."""

from __future__ import annotations

import re

NEG_WORDS = frozenset(
    {"old", "was", "list", "listprice", "compare", "compareat", "rrp", "msrp", "strike",
     "strikethrough", "strikeout", "crossed", "crossedout", "original", "before", "retail",
     "uvp", "reg", "save", "saving", "savings", "yousave", "instalment", "installment",
     "installments", "instalments", "klarna", "afterpay", "affirm", "sezzle", "unit",
     "unitprice", "baseprice", "shipping", "delivery", "linethrough", "nonsale", "prev",
     "previous", "de", "antes", "parcela", "parcelas", "parcelado", "tax",
     "excl", "net", "netto", "coupon", "subscription", "subscribe", "member", "club",
     "ship", "emi", "monthly", "per", "strikeprice", "oldprice", "wasprice",
     "marketplace", "outlet", "openbox", "giftcard", "egift", "minimal", "tier", "tierprice",
     "used", "refurbished", "seller", "sellers", "rewards", "points", "financing", "finance"}
)
OTHER_OFFER_WORDS = frozenset({"seller", "sellers", "marketplace", "otheroffers", "moreoffers", "offerlisting"})
GROSS_WORDS = frozenset({"including", "incl", "inkl", "inc", "gross", "brutto", "withtax", "intax"})
SOFT_NEG_WORDS = frozenset({"regular", "from", "min", "max", "range", "total"})
POS_WORDS = frozenset(
    {"sale", "special", "current", "final", "now", "our", "actual", "offer", "selling",
     "deal", "your", "pay", "buy", "main", "new", "promo", "discounted", "reduced", "today",
     "priceblock", "ourprice", "saleprice", "dealprice", "finalprice", "currentprice",
     "productprice", "pdp", "buybox", "purchase"}
)
EMPHASIS_WORDS = frozenset({"big", "large", "lg", "xl", "xxl", "bold", "strong", "highlight",
                             "primary", "headline", "hero", "main"})

BEFORE_BAD = re.compile(
    r"(?:\bwas|\breg\.?|\bregular(?: price)?|\blist(?: price)?|\brrp|\bmsrp|\buvp|\bstatt|"
    r"\bde:?|\bbefore|\boriginally|\boriginal(?: price)?|\bcompare at|\bretail(?: price)?|"
    r"\bvalue|\bsave|\byou save|\bsavings?|\beconomiz\w*|\bahorr\w*|\bsparen|\bspar\w*|"
    r"\bshipping(?: cost)?|\bdelivery|\bentrega|\benv[ií]o|\bfrete|\bversand\w*|\bs&h|"
    r"\bover|\bunder|\babove|\bevery|\bfor each|\borders?(?: of)?|\bspend|\bmin(?:imum)?|\d+\s?x(?: de)?|\bx de|"
    r"payments? of|\binstal+ments?(?: of)?|\bklarna|\bafterpay|\baffirm|\bas low as|"
    r"\bpay in \w+|\bparcelas?|\bzzgl\.?(?: mwst\.?)?|\bnet(?:to)?|\bohne mwst\.?|\bhors taxes?|"
    r"\bex[ck]l\.?(?: vat| tax| btw| mwst\.?| ust\.?| gst| iva| tva)?|"
    r"\bmember(?:s)? price|\bprime|\bstudents?|\bsubscribe|\bauto-?restock|\bclub|"
    r"\bwarranty|\bprotection|\bcoupon|\bgift card|\bcredit|\bplus|\+|\bimport|\bdeposit|"
    r"\bfinanc\w*|\bmonthly|\bper month|\bbonus|\bcashback|\brewards?|"
    r"\bused(?: from)?|\bnew from|\brefurbished|\bother sellers?|\bsellers? from|\bvon|"
    r"\boffers? from|\bopen box(?: outlet)?(?: price)?(?: from)?|\boutlet(?: price)?|"
    r"\bmarketplace|\bgift ?cards?|\begift|\bas low as|\bpvpr?:?|\bantes)"
    r"(?:\s*\([^)]{0,15}\))?\W{0,3}$",
    re.IGNORECASE,
)
AFTER_BAD = re.compile(
    r"^\W{0,2}(?:/\s?\w|per\b|pro\b|each\s*\(reg|a month|/mo\b|mo\.|month|monthly|x\b|"
    r"off\b|% off|savings|shipping\b(?!\s*:)|delivery\b(?!\s*:)|versand\b|frete\b|s/ juros|sem juros|"
    r"interest|for eligible|with prime|prime\b|with code|back\b|cashback|credit|"
    r"in rewards|reward|import|deposit|spent|spend|or more|and up|& under|and under|or less|"
    r"ex\.? vat|exc\.?(?:l\.?|luding)? (?:vat|tax|mwst)|ex[ck]l\.?\b|zzgl|netto|net\b|\+ ?vat|plus vat|\+ ?tax|"
    r"h\.?t\.?(?!\w)|hors taxes?)",
    re.IGNORECASE,
)
BEFORE_GOOD = re.compile(
    r"(?:\bnow|\bsale|\bprice|\bpreis|\bpreço|\bprecio|\bprix|\bcena|\bour price|\byour price|"
    r"\btoday|\bpor|\bjetzt|\bonly|\bdeal|\bspecial|\bbuy|\bkindle price|\byou pay|"
    r"\bstarts? at|\bstarting (?:at|from)|\bfrom|inkl\.?(?: mwst)?)\W{0,3}$",
    re.IGNORECASE,
)
# "From £1,049": the cheapest of several sizes or options when the page lists others.
LOWER_BOUND = re.compile(
    r"(?:\bfrom|\bstarts? at|\bstarting (?:at|from)|\bab|\bà partir de|\ba partir de|\bdesde|\bvanaf)"
    r"(?:\s*\([^)]{0,15}\))?\W{0,3}$",
    re.IGNORECASE,
)
# Labels that may stand a few words before the amount: EU "lowest price in 30 days" notices,
# "was" wording in other languages.
FAR_LABELS = re.compile(
    r"(?:lowest price|niedrigste[rn]? preis|tiefstpreis|najniższa cena|prix le plus bas|"
    r"prezzo più basso|precio más bajo|laagste prijs|au lieu de|prix barré|économisez|"
    r"invece di|risparmi|było|streichpreis|statt|ursprünglich|originalpreis)[^\d]{0,40}$",
    re.IGNORECASE,
)
