"""The simulated web site: what is requested, how it is answered, and from where.

An online shop at www.example.com: a home page, ~4,000 products, categories with
paging, a blog, search, an API used by its front end, hashed static assets and product
images. Humans load pages and then the pages' assets (so most human requests are for
assets, referred by a page of the site); crawlers fetch pages, robots.txt and sitemaps;
monitors poll `/` and `/health`; scanners probe for files that are not there.

Sizes depend on what was requested: an asset always has the same size (it is a file),
a page varies a little (it is rendered), 304 and 499 send nothing or part of the body,
and nginx's own error pages have their exact lengths. Status codes follow a typical
mix: mostly 200, then 304 for cached assets, redirects, 404s, a few 499s and 5xx.

Each function returns request *fragments* (`<request>" <status> <bytes> "<referer>" "`,
see generator.nginx_format) so that rendering a line never formats numbers.
"""

from __future__ import annotations

import functools
import random
import zlib
from bisect import bisect
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from itertools import accumulate
from typing import TypeVar

from generator.nginx_format import request_part

T = TypeVar("T")

SITE = "https://www.example.com"
HOME_PAGE_BYTES = 74_512
NGINX_VERSION = "nginx/1.26.2"

_REASONS = {
    400: "Bad Request",
    403: "Forbidden",
    404: "Not Found",
    405: "Not Allowed",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Temporarily Unavailable",
    504: "Gateway Time-out",
    301: "Moved Permanently",
    302: "Found",
}


@functools.cache
def nginx_error_page_length(status: int) -> int:
    """Bytes of nginx's built-in error page (server_tokens on), e.g. 153 for a 404."""
    title = f"{status} {_REASONS[status]}"
    body = (
        f"<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n"
        f"<center><h1>{title}</h1></center>\r\n"
        f"<hr><center>{NGINX_VERSION}</center>\r\n</body>\r\n</html>\r\n"
    )
    return len(body)


def _stable(key: str, low: int, high: int) -> int:
    """A size that belongs to a resource: the same every time it is served."""
    return low + zlib.crc32(key.encode()) % (high - low + 1)


def _pick(rng: random.Random, table: Collection[tuple[T, float]]) -> Callable[[], T]:
    """A weighted draw with the cumulative weights computed once (random.choices
    recomputes them per call, which dominated pool building)."""
    values = [v for v, _ in table]
    cum = list(accumulate(w for _, w in table))
    total = cum[-1]

    def pick() -> T:
        return values[bisect(cum, rng.random() * total)]

    return pick


@dataclass(frozen=True, kw_only=True)
class Asset:
    """A static file of the site and how often a page load fetches it."""

    path: str
    size: int  # bytes sent: bundles are served gzip-compressed, images as they are
    weight: float


@dataclass(frozen=True, kw_only=True)
class Response:
    """A canned request with its answer, and its weight among the alternatives."""

    request: str  # a path, or a whole request line
    status: int
    size: int = 0  # bytes sent
    rendered: bool = False  # True: a rendered page, whose size varies a little each time
    weight: float


def _choose(rng: random.Random, rows: Sequence[Response]) -> Response:
    return rng.choices(rows, [row.weight for row in rows])[0]


_CATEGORIES = (
    "shoes",
    "running-shoes",
    "boots",
    "sneakers",
    "sandals",
    "jackets",
    "rain-jackets",
    "t-shirts",
    "shirts",
    "hoodies",
    "jeans",
    "trousers",
    "shorts",
    "dresses",
    "skirts",
    "socks",
    "bags",
    "backpacks",
    "hats",
    "gloves",
    "scarves",
    "watches",
    "sunglasses",
    "sports",
    "outdoor",
    "kids",
    "sale",
    "new-arrivals",
    "gift-cards",
    "accessories",
)
_WORDS = (
    "how",
    "to",
    "choose",
    "the",
    "best",
    "running",
    "shoes",
    "for",
    "winter",
    "care",
    "guide",
    "waterproof",
    "jacket",
    "size",
    "chart",
    "spring",
    "trends",
    "hiking",
    "packing",
    "list",
    "city",
    "style",
    "leather",
    "boots",
    "clean",
    "sustainable",
    "cotton",
    "gift",
    "ideas",
    "travel",
)
_SEARCH_TERMS = (
    "running+shoes",
    "rain+jacket",
    "black+boots",
    "hoodie",
    "gift+card",
    "socks",
    "waterproof",
    "size+44",
    "jeans+slim",
    "backpack",
    "sale",
    "leather+bag",
    "sandals",
    "kids+shoes",
    "sunglasses",
    "winter+gloves",
    "caf%C3%A9+racer",
    "t-shirt+white",
    "wool+scarf",
    "trail+running",
    "nike",
    "adidas",
    "new+balance",
    "return+policy",
    "%E9%9D%B4",
    "sneakers+women",
    "hiking+boots",
    "yoga",
    "shorts",
    "dress",
)
_CAMPAIGNS = (
    "?utm_source=newsletter&utm_medium=email&utm_campaign=autumn_sale",
    "?utm_source=facebook&utm_medium=cpc&utm_campaign=retargeting",
    "?gclid=Cj0KCQjw9Km3BhDjARIsAGUb4nw",
    "?fbclid=IwAR2x7Yc1pQm0N4Zl8kq9",
    "?utm_source=instagram&utm_medium=social",
    "?ref=producthunt",
)
_EXTERNAL_REFERERS = {  # referrer -> weight
    "https://www.google.com/": 30.0,
    "https://www.bing.com/": 3.0,
    "https://duckduckgo.com/": 2.0,
    "https://l.facebook.com/": 2.0,
    "https://www.instagram.com/": 1.0,
    "https://t.co/": 0.8,
    "https://www.reddit.com/": 0.8,
    "android-app://com.google.android.gm/": 0.6,
    "https://www.google.de/": 1.5,
    "https://www.google.co.uk/": 1.5,
    "https://search.yahoo.com/": 0.5,
    "https://www.pinterest.com/": 0.5,
    "https://news.ycombinator.com/": 0.3,
    "https://yandex.ru/": 0.3,
    "https://www.ecosia.org/": 0.4,
    "https://chatgpt.com/": 0.6,
}

# Each of these maps a value to its weight among the alternatives.
_PROTOCOLS = {"HTTP/2.0": 0.62, "HTTP/1.1": 0.37, "HTTP/1.0": 0.01}
_PAGE_STATUSES = {
    200: 88.5,
    304: 1.0,
    301: 2.0,
    302: 1.5,
    404: 3.5,
    499: 0.8,
    500: 0.6,
    502: 0.4,
    503: 0.4,
}
_ASSET_STATUSES = {200: 77.5, 304: 21.0, 404: 1.0, 499: 0.5}
_CRAWLER_STATUSES = {200: 87.0, 304: 4.0, 301: 2.0, 404: 5.0, 410: 0.5, 429: 0.7, 503: 0.8}
_IMAGE_WIDTHS = {320: 5, 640: 4, 1280: 1}  # pixels
_CATEGORY_PAGES = {1: 60, 2: 15, 3: 8, 4: 5, 5: 3, 8: 1}  # page number of a category listing
_HUMAN_REQUEST_KINDS = {"page": 0.27, "asset": 0.56, "api": 0.13, "misc": 0.04}


class Catalog:
    """The site's resources, with stable sizes, drawn once from the seed."""

    def __init__(self, rng: random.Random, products: int = 4000) -> None:
        self.products = rng.sample(range(10_000, 100_000), products)
        self.blog = ["-".join(rng.sample(_WORDS, rng.randint(3, 6))) for _ in range(240)]
        build = f"{rng.getrandbits(32):08x}"
        vendor, runtime = build[::-1], build[2:] + build[:2]
        self.assets = [
            Asset(path=f"/static/css/app.{build}.css", size=31_877, weight=10),
            Asset(path=f"/static/css/vendor.{vendor}.css", size=12_410, weight=4),
            Asset(path=f"/static/js/main.{build}.js", size=187_322, weight=10),
            Asset(path=f"/static/js/vendor.{vendor}.js", size=261_448, weight=8),
            Asset(path=f"/static/js/runtime.{runtime}.js", size=2_913, weight=9),
            Asset(path="/static/fonts/inter-var.woff2", size=48_256, weight=6),
            Asset(path="/static/fonts/inter-italic.woff2", size=51_120, weight=2),
            Asset(path="/static/img/logo.svg", size=4_211, weight=9),
            Asset(path="/static/img/hero-autumn.webp", size=142_877, weight=5),
            Asset(path="/static/img/sprite.svg", size=18_004, weight=7),
            Asset(path="/favicon.ico", size=15_086, weight=6),
        ]

    def product_page(self, i: int) -> str:
        return f"/products/{self.products[i]}"

    def page_size(self, path: str) -> int:
        if path == "/":
            return HOME_PAGE_BYTES
        if path.startswith("/products/"):
            return _stable(path, 38_000, 95_000)
        if path.startswith("/category/"):
            return _stable(path, 45_000, 120_000)
        if path.startswith("/blog/"):
            return _stable(path, 25_000, 70_000)
        return _stable(path, 14_000, 32_000)


class _Draw:
    """Weighted draws for one pool build (Python-level: pools are built once per run)."""

    def __init__(self, rng: random.Random, catalog: Catalog) -> None:
        self.rng = rng
        self.catalog = catalog
        products = catalog.products
        self._product = _pick(rng, [(i, (i + 5) ** -1.1) for i in range(len(products))])
        self.category = _pick(rng, [(c, (r + 2) ** -1.0) for r, c in enumerate(_CATEGORIES)])
        self.blog = _pick(rng, [(b, (r + 3) ** -1.2) for r, b in enumerate(catalog.blog)])
        self.referer = _pick(rng, _EXTERNAL_REFERERS.items())
        self.protocol = _pick(rng, _PROTOCOLS.items())
        self.page_status = _pick(rng, _PAGE_STATUSES.items())
        self.asset_status = _pick(rng, _ASSET_STATUSES.items())
        self.static_asset = _pick(rng, [(asset, asset.weight) for asset in catalog.assets])
        self.image_width = _pick(rng, _IMAGE_WIDTHS.items())
        self.category_page = _pick(rng, _CATEGORY_PAGES.items())

    def product(self, popular: bool = True) -> str:
        if popular:
            return self.catalog.product_page(self._product())
        # Crawlers walk the whole catalog.
        return self.catalog.product_page(self.rng.randrange(len(self.catalog.products)))

    def page(self, popular: bool = True) -> str:
        r = self.rng.random()
        if r < 0.2:
            return "/"
        if r < 0.62:
            return self.product(popular)
        if r < 0.78:
            page = self.category_page()
            query = "" if page == 1 else f"?page={page}"
            if self.rng.random() < 0.15:
                sort = self.rng.choice(("price_asc", "price_desc", "newest"))
                query = f"{query or '?page=1'}&sort={sort}"
            return f"/category/{self.category()}{query}"
        if r < 0.86:
            return f"/blog/{self.blog()}"
        if r < 0.95:
            return f"/search?q={self.rng.choice(_SEARCH_TERMS)}"
        return self.rng.choice(
            (
                "/cart",
                "/account",
                "/login",
                "/about",
                "/contact",
                "/shipping",
                "/returns",
                "/checkout",
            )
        )

    def internal_referer(self) -> str:
        return SITE + self.page()


def human_requests(rng: random.Random, catalog: Catalog, n: int) -> list[str]:
    """`n` fragments in the proportions humans request them."""
    draw = _Draw(rng, catalog)
    kind = _pick(rng, _HUMAN_REQUEST_KINDS.items())
    makers = {"page": _human_page, "asset": _asset, "api": _api, "misc": _misc}
    return [makers[kind()](draw) for _ in range(n)]


def _human_page(d: _Draw) -> str:
    rng = d.rng
    path = d.page()
    landing = rng.random()
    if landing < 0.35:
        referer = None
    elif landing < 0.7:
        referer = d.referer()
        if rng.random() < 0.2 and "?" not in path:
            path += rng.choice(_CAMPAIGNS)
    else:
        referer = d.internal_referer()
    method = "GET"
    if path in ("/login", "/checkout") and rng.random() < 0.4:
        method = "POST"
    if rng.random() < 0.003:
        # A client that sends raw UTF-8 instead of percent-encoding: nginx escapes it.
        path = "/search?q=caf\u00e9+cr\u00e8me"
    status = d.page_status()
    if method == "POST" and status == 200:
        status = 302  # post/redirect/get
    base = d.catalog.page_size(path.split("?")[0])
    size = {
        200: int(base * rng.uniform(0.97, 1.03)),
        304: 0,
        301: nginx_error_page_length(301),
        302: 0 if method == "POST" else nginx_error_page_length(302),
        404: int(5_840 * rng.uniform(0.99, 1.01)),
        499: rng.randrange(0, base // 4),  # the client left mid-response
        500: 1_288,
        502: nginx_error_page_length(502),
        503: nginx_error_page_length(503),
    }[status]
    return request_part(f"{method} {path} {d.protocol()}", status, size, referer)


def _asset(d: _Draw) -> str:
    rng = d.rng
    if rng.random() < 0.55:
        asset = d.static_asset()
        path, size = asset.path, asset.size
    else:
        width = d.image_width()
        path = f"/images/products/{d.product().rsplit('/', 1)[1]}-{width}.webp"
        size = _stable(path, width * width // 14, width * width // 7)
    status = d.asset_status()
    sent = {200: size, 304: 0, 404: nginx_error_page_length(404), 499: rng.randrange(0, size + 1)}[
        status
    ]
    if path.endswith(".woff2"):
        referer: str | None = f"{SITE}{d.catalog.assets[0].path}"
    else:
        referer = d.internal_referer() if rng.random() < 0.93 else None
    return request_part(f"GET {path} {d.protocol()}", status, sent, referer)


def _api(d: _Draw) -> str:
    rng = d.rng
    r = rng.random()
    if r < 0.35:
        request = f"GET /api/v1/products?category={d.category()}&page={rng.randint(1, 6)}"
        status, size = 200, rng.randint(6_000, 24_000)
    elif r < 0.55:
        product = d.product().rsplit("/", 1)[1]
        request = f"GET /api/v1/recommendations?product={product}"
        status, size = 200, rng.randint(1_500, 6_500)
    elif r < 0.7:
        request = "POST /api/v1/events"
        status, size = 204, 0
    elif r < 0.85:
        answer = _choose(rng, _SESSION_ANSWERS)
        request, status, size = answer.request, answer.status, answer.size
    elif r < 0.95:
        answer = _choose(rng, _CART_ANSWERS)
        request, status, size = answer.request, answer.status, answer.size
    else:
        request = f"GET /api/v1/stock?sku={rng.randint(100_000, 999_999)}"
        status, size = 200, rng.randint(40, 90)
    failure = rng.random()
    if failure < 0.004:
        status, size = 500, 52
    elif failure < 0.007:
        status = rng.choice((502, 504))
        size = nginx_error_page_length(status)
    elif failure < 0.012:
        status, size = 429, 38
    return request_part(f"{request} {d.protocol()}", status, size, d.internal_referer())


_SESSION_ANSWERS = (
    Response(request="GET /api/v1/session", status=200, size=412, weight=85),
    Response(request="GET /api/v1/session", status=401, size=61, weight=15),
)
_CART_ANSWERS = (
    Response(request="POST /api/v1/cart", status=200, size=1_877, weight=60),
    Response(request="POST /api/v1/cart", status=201, size=1_902, weight=35),
    Response(request="POST /api/v1/cart", status=400, size=94, weight=5),
)


def _misc(d: _Draw) -> str:
    misc = _choose(d.rng, _MISC_FILES)
    return request_part(f"GET {misc.request} {d.protocol()}", misc.status, misc.size, None)


_MISC_FILES = (
    Response(request="/robots.txt", status=200, size=312, weight=5),
    Response(request="/sitemap.xml", status=200, size=1_911, weight=2),
    Response(
        request="/apple-touch-icon.png", status=404, size=nginx_error_page_length(404), weight=10
    ),
    Response(
        request="/apple-touch-icon-precomposed.png",
        status=404,
        size=nginx_error_page_length(404),
        weight=6,
    ),
    Response(request="/manifest.webmanifest", status=200, size=644, weight=8),
    Response(request="/ads.txt", status=404, size=nginx_error_page_length(404), weight=1),
    Response(request="/.well-known/security.txt", status=200, size=241, weight=1),
    Response(request="/favicon-32x32.png", status=200, size=1_520, weight=6),
)


def crawler_requests(rng: random.Random, catalog: Catalog, n: int) -> list[str]:
    draw = _Draw(rng, catalog)
    out = []
    for _ in range(n):
        r = rng.random()
        if r < 0.04:
            path, base = "/robots.txt", 312
        elif r < 0.055:
            path, base = "/sitemap.xml", 1_911
        elif r < 0.07:
            path = f"/sitemap-products-{rng.randint(1, 8)}.xml"
            base = _stable(path, 180_000, 260_000)
        elif r < 0.14:
            path = f"/images/products/{draw.product(False).rsplit('/', 1)[1]}-1280.webp"
            base = _stable(path, 1280 * 1280 // 14, 1280 * 1280 // 7)
        elif r < 0.16:  # links from old versions of the site
            path, base = f"/product.php?id={rng.randint(1, 9999)}", 0
        else:
            path = draw.page(popular=False)
            base = catalog.page_size(path.split("?")[0])
        status = (
            301
            if path.startswith("/product.php")
            else rng.choices(tuple(_CRAWLER_STATUSES), tuple(_CRAWLER_STATUSES.values()))[0]
        )
        # Rendered pages vary a little per request; files (images, sitemaps) do not.
        rendered = not path.startswith(("/images/", "/robots.txt", "/sitemap"))
        size = {
            200: int(base * rng.uniform(0.98, 1.02)) if rendered else base,
            304: 0,
            301: nginx_error_page_length(301),
            404: 5_840,
            410: 5_840,
            429: nginx_error_page_length(429),
            503: nginx_error_page_length(503),
        }[status]
        proto = "HTTP/1.1" if rng.random() < 0.8 else "HTTP/2.0"
        out.append(request_part(f"GET {path} {proto}", status, size, None))
    return out


def monitor_requests(rng: random.Random, catalog: Catalog, n: int) -> list[str]:
    home = catalog.page_size("/")
    out = []
    for _ in range(n):
        # Drawn before the probe, whichever it is: the random sequence, hence the output for
        # a seed, stays what it has been.
        rendered = int(home * rng.uniform(0.98, 1.02))
        probe = _choose(rng, _MONITOR_PROBES)
        size = rendered if probe.rendered else probe.size
        out.append(request_part(probe.request, probe.status, size, None))
    return out


_MONITOR_PROBES = (
    Response(request="HEAD / HTTP/1.1", status=200, size=0, weight=40),
    Response(request="GET / HTTP/1.1", status=200, rendered=True, weight=20),
    Response(request="GET /health HTTP/1.1", status=200, size=2, weight=40),
    Response(
        request="GET /health HTTP/1.1", status=503, size=nginx_error_page_length(503), weight=0.2
    ),
)


_PROBES = (
    "/.env",
    "/.env.production",
    "/.git/config",
    "/.git/HEAD",
    "/wp-login.php",
    "/wp-admin/setup-config.php",
    "/xmlrpc.php",
    "/wp-includes/wlwmanifest.xml",
    "/phpmyadmin/",
    "/pma/index.php",
    "/admin/config.php",
    "/config.json",
    "/.aws/credentials",
    "/server-status",
    "/actuator/env",
    "/api/.env",
    "/vendor/phpunit/phpunit/src/Util/PHP/eval-stdin.php",
    "/cgi-bin/luci/;stok=/locale",
    "/boaform/admin/formLogin",
    "/HNAP1/",
    "/solr/admin/info/system?wt=json",
    "/owa/auth/logon.aspx",
    "/.DS_Store",
    "/backup.sql",
    "/db.sql.gz",
    "/telescope/requests",
    "/_ignition/execute-solution",
    "/geoserver/web/",
    "/console/",
    "/autodiscover/autodiscover.json",
)


def scanner_requests(rng: random.Random, catalog: Catalog, n: int) -> list[str]:
    del catalog  # scanners do not look at the site
    not_found = nginx_error_page_length(404)
    bad = nginx_error_page_length(400)
    out = []
    for _ in range(n):
        r = rng.random()
        proto = rng.choice(("HTTP/1.1", "HTTP/1.1", "HTTP/1.0"))
        if r < 0.62:
            method = "POST" if rng.random() < 0.1 else "GET"
            out.append(
                request_part(f"{method} {rng.choice(_PROBES)} {proto}", 404, not_found, None)
            )
        elif r < 0.72:
            out.append(request_part(f"GET / {proto}", 200, HOME_PAGE_BYTES, None))
        elif r < 0.8:
            # A TLS ClientHello sent to the plain-HTTP port: nginx logs the raw bytes.
            hello = bytes(
                (
                    0x16,
                    0x03,
                    0x01,
                    0x00,
                    rng.randrange(0x80, 0xFF),
                    0x01,
                    0x00,
                    0x00,
                    rng.randrange(0x80, 0xFF),
                    0x03,
                    0x03,
                )
            )
            out.append(request_part(hello, 400, bad, None))
        elif r < 0.86:
            out.append(request_part(None, 400, 0, None))  # connected, sent nothing
        elif r < 0.9:
            out.append(request_part(f"CONNECT www.example.org:443 {proto}", 400, bad, None))
        elif r < 0.94:
            # ThinkPHP remote code execution probe: backslashes, escaped by nginx.
            out.append(
                request_part(
                    "GET /index.php?s=/Index/\\think\\app/invokefunction&function="
                    "call_user_func_array&vars[0]=md5&vars[1][]=HelloThinkPHP HTTP/1.1",
                    404,
                    not_found,
                    None,
                )
            )
        elif r < 0.97:
            # SQL injection with a raw quote: nginx writes it as \x22.
            out.append(
                request_part(
                    f'GET /products/{rng.randint(10_000, 99_999)}?id=1" OR "1"="1 HTTP/1.1',
                    404,
                    5_840,
                    None,
                )
            )
        else:
            out.append(request_part(f"PROPFIND / {proto}", 405, nginx_error_page_length(405), None))
    return out
