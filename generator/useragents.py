"""Real browser User-Agent strings, with popularity weights and a device class.

Strings follow what browsers actually send, including the freezes that make modern UAs
look alike: Chrome's reduced UA (`Chrome/131.0.0.0`, and `Android 10; K` instead of the
phone model from Chrome 110), macOS frozen at `10_15_7`, Safari 26 on iOS 26 still saying
`iPhone OS 18_6`. Models stay visible where real browsers show them: Samsung Internet,
Android WebView, legacy Chrome (101-109), Silk, in-app browsers. Version spread (recent
releases weighted most, a long tail of old ones) gives a few hundred to about two
thousand distinct strings, which is what one site sees in a few days.

Weights are shares of human requests; the desktop/mobile/tablet split is roughly
40/54/6, a typical mix for a consumer site.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

DeviceClass = Literal["desktop", "mobile", "tablet", "bot", "other"]


@dataclass(frozen=True)
class Agent:
    ua: str
    device: DeviceClass
    weight: float


@dataclass(frozen=True, kw_only=True)
class IosRelease:
    os_token: str  # the iOS version as the UA's OS token says it (`18_6`)
    safari: str  # Safari's `Version/` token


@dataclass(frozen=True, kw_only=True)
class SamsungRelease:
    version: str  # Samsung Internet's own version
    chromium: int  # the Chromium major it is built on


@dataclass(frozen=True, kw_only=True)
class IPhone:
    model: str  # device token (`iPhone16,1`)
    screen: str  # pixels, width x height


# Chrome/Edge build numbers per major version (the third component of a full version).
_CHROME_BUILD = {
    120: 6099,
    121: 6167,
    122: 6261,
    123: 6312,
    124: 6367,
    125: 6422,
    126: 6478,
    127: 6533,
    128: 6613,
    129: 6668,
    130: 6723,
    131: 6778,
    132: 6834,
    133: 6943,
    134: 6998,
    135: 7049,
    136: 7103,
    137: 7151,
    138: 7204,
    139: 7258,
    140: 7339,
}
_EDGE_BUILD = {
    120: 2210,
    121: 2277,
    122: 2365,
    123: 2420,
    124: 2478,
    125: 2535,
    126: 2592,
    127: 2651,
    128: 2739,
    129: 2792,
    130: 2849,
    131: 2903,
    132: 2957,
    133: 3065,
    134: 3124,
    135: 3179,
    136: 3240,
    137: 3296,
    138: 3351,
    139: 3405,
    140: 3485,
}
# Patch numbers cycle through plausible values; each major ships several.
_PATCHES = (46, 58, 69, 84, 91, 102, 116, 127, 146)

CHROME_MAJORS = tuple(range(140, 119, -1))  # newest first
FIREFOX_MAJORS = (*range(143, 129, -1), 128, 115)  # 128 and 115 are ESR releases
IOS_VERSIONS = (  # newest first
    IosRelease(os_token="18_6", safari="26.1"),
    IosRelease(os_token="18_6", safari="26.0"),
    IosRelease(os_token="18_7", safari="18.7"),
    IosRelease(os_token="18_6_2", safari="18.6"),
    IosRelease(os_token="18_5", safari="18.5"),
    IosRelease(os_token="18_4_1", safari="18.4"),
    IosRelease(os_token="18_3_2", safari="18.3"),
    IosRelease(os_token="18_1_1", safari="18.1"),
    IosRelease(os_token="17_7_2", safari="17.7"),
    IosRelease(os_token="17_6_1", safari="17.6"),
    IosRelease(os_token="17_5_1", safari="17.5"),
    IosRelease(os_token="17_4_1", safari="17.4"),
    IosRelease(os_token="16_7_10", safari="16.7"),
    IosRelease(os_token="16_6_1", safari="16.6"),
    IosRelease(os_token="15_8_3", safari="15.8"),
)
MAC_SAFARI_VERSIONS = (
    "26.1",
    "26.0",
    "18.6",
    "18.5",
    "18.3",
    "18.1",
    "17.6",
    "17.5",
    "17.4.1",
    "16.6",
)
SAMSUNG_BROWSER = (  # newest first
    SamsungRelease(version="28.0", chromium=130),
    SamsungRelease(version="27.0", chromium=125),
    SamsungRelease(version="26.0", chromium=122),
    SamsungRelease(version="25.0", chromium=121),
    SamsungRelease(version="24.0", chromium=117),
    SamsungRelease(version="23.0", chromium=115),
)

SAMSUNG_PHONES = (
    "SM-S938B",
    "SM-S931B",
    "SM-S928B",
    "SM-S926B",
    "SM-S921B",
    "SM-S918B",
    "SM-S916B",
    "SM-S911B",
    "SM-S908B",
    "SM-S901B",
    "SM-G991B",
    "SM-G998B",
    "SM-A566B",
    "SM-A556B",
    "SM-A546B",
    "SM-A536B",
    "SM-A356B",
    "SM-A346B",
    "SM-A256B",
    "SM-A155F",
    "SM-M346B",
    "SM-S918U",
    "SM-S928U",
    "SM-A156U",
    "SM-F946B",
    "SM-F731B",
)
PIXEL_PHONES = (
    "Pixel 9 Pro XL",
    "Pixel 9 Pro",
    "Pixel 9",
    "Pixel 8a",
    "Pixel 8 Pro",
    "Pixel 8",
    "Pixel 7a",
    "Pixel 7 Pro",
    "Pixel 7",
    "Pixel 6a",
    "Pixel 6",
)
OTHER_PHONES = (
    "CPH2581",
    "CPH2449",
    "2201116SG",
    "23049PCD8G",
    "M2101K6G",
    "moto g54 5G",
    "motorola edge 40",
    "CPH2211",
)
SAMSUNG_TABLETS = (
    "SM-X910",
    "SM-X810",
    "SM-X710",
    "SM-X610",
    "SM-X510",
    "SM-X200",
    "SM-X110",
    "SM-T505",
    "SM-T220",
)
LENOVO_TABLETS = ("Lenovo TB-X606F", "Lenovo TB-J606F", "Lenovo TB-X6C6F", "TB328FU")
FIRE_TABLETS = {"KFTRWI": "11", "KFRAWI": "11", "KFMAWI": "9", "KFONWI": "9"}  # -> Android
# As the Instagram in-app browser reports them.
IPHONE_MODELS = (
    IPhone(model="iPhone17,1", screen="1206x2622"),
    IPhone(model="iPhone16,1", screen="1179x2556"),
    IPhone(model="iPhone15,2", screen="1179x2556"),
    IPhone(model="iPhone14,5", screen="1170x2532"),
    IPhone(model="iPhone14,7", screen="1170x2532"),
    IPhone(model="iPhone13,2", screen="1170x2532"),
    IPhone(model="iPhone12,1", screen="828x1792"),
)


def _recency(items: Sequence[object], decay: float) -> list[float]:
    """Newest-first weights: each older release keeps `decay` of its successor's share."""
    return [decay**i for i in range(len(items))]


def chrome_full_version(major: int, i: int) -> str:
    """A real-looking full Chrome version (`130.0.6723.91`); `i` picks one of its patches."""
    return f"{major}.0.{_CHROME_BUILD[major]}.{_PATCHES[i % len(_PATCHES)]}"


def _family(
    device: DeviceClass, share: float, variants: Iterable[tuple[str, float]]
) -> list[Agent]:
    """Scale one browser family's variants so they add up to `share`."""
    items = list(variants)
    total = sum(w for _, w in items)
    return [Agent(ua, device, share * w / total) for ua, w in items]


def _versions(majors: Sequence[int], decay: float) -> Iterable[tuple[int, float]]:
    return zip(majors, _recency(majors, decay), strict=True)


def _desktop() -> list[Agent]:
    win = "Windows NT 10.0; Win64; x64"
    mac = "Macintosh; Intel Mac OS X 10_15_7"
    webkit = "AppleWebKit/537.36 (KHTML, like Gecko)"
    agents: list[Agent] = []
    agents += _family(
        "desktop",
        0.17,
        (
            (f"Mozilla/5.0 ({win}) {webkit} Chrome/{v}.0.0.0 Safari/537.36", w)
            for v, w in _versions(CHROME_MAJORS, 0.62)
        ),
    )
    agents += _family(
        "desktop",
        0.055,
        (
            (
                f"Mozilla/5.0 ({win}) {webkit} Chrome/{v}.0.0.0 Safari/537.36 "
                f"Edg/{v}.0.{_EDGE_BUILD[v]}.{_PATCHES[(v + i) % len(_PATCHES)]}",
                w * (0.7**i),
            )
            for v, w in _versions(CHROME_MAJORS, 0.6)
            for i in range(4)
        ),
    )
    agents += _family(
        "desktop",
        0.03,
        (
            (f"Mozilla/5.0 ({win}; rv:{v}.0) Gecko/20100101 Firefox/{v}.0", w)
            for v, w in _versions(FIREFOX_MAJORS, 0.7)
        ),
    )
    agents += _family(
        "desktop",
        0.055,
        (
            (f"Mozilla/5.0 ({mac}) {webkit} Chrome/{v}.0.0.0 Safari/537.36", w)
            for v, w in _versions(CHROME_MAJORS, 0.62)
        ),
    )
    agents += _family(
        "desktop",
        0.04,
        (
            (
                f"Mozilla/5.0 ({mac}) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/{v} "
                "Safari/605.1.15",
                w,
            )
            for v, w in zip(MAC_SAFARI_VERSIONS, _recency(MAC_SAFARI_VERSIONS, 0.7), strict=True)
        ),
    )
    agents += _family(
        "desktop",
        0.008,
        (
            (
                f"Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:{v}.0) Gecko/20100101 "
                f"Firefox/{v}.0",
                w,
            )
            for v, w in _versions(FIREFOX_MAJORS, 0.7)
        ),
    )
    agents += _family(
        "desktop",
        0.012,
        (
            (f"Mozilla/5.0 (X11; Linux x86_64) {webkit} Chrome/{v}.0.0.0 Safari/537.36", w)
            for v, w in _versions(CHROME_MAJORS, 0.6)
        ),
    )
    agents += _family(
        "desktop",
        0.01,
        (
            (
                f"Mozilla/5.0 (X11; {distro}Linux x86_64; rv:{v}.0) Gecko/20100101 Firefox/{v}.0",
                w * dw,
            )
            for v, w in _versions(FIREFOX_MAJORS, 0.7)
            for distro, dw in {"Ubuntu; ": 0.6, "": 0.4}.items()
        ),
    )
    agents += _family(
        "desktop",
        0.008,
        (
            (f"Mozilla/5.0 ({win}) {webkit} Chrome/{v}.0.0.0 Safari/537.36 OPR/{v - 15}.0.0.0", w)
            for v, w in _versions(CHROME_MAJORS[:10], 0.6)
        ),
    )
    agents += _family(
        "desktop",
        0.005,
        (
            (f"Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) {webkit} Chrome/{v}.0.0.0 Safari/537.36", w)
            for v, w in _versions(CHROME_MAJORS, 0.6)
        ),
    )
    # Windows 7/8.1 are stuck on Chrome 109, the last release for them.
    agents += _family(
        "desktop",
        0.003,
        (
            (
                f"Mozilla/5.0 (Windows NT {nt}; Win64; x64) {webkit} "
                "Chrome/109.0.0.0 Safari/537.36",
                w,
            )
            for nt, w in {"6.1": 0.7, "6.3": 0.3}.items()
        ),
    )
    return agents


def _ios_weighted(decay: float) -> Iterable[tuple[str, str, float]]:
    for release, w in zip(IOS_VERSIONS, _recency(IOS_VERSIONS, decay), strict=True):
        yield release.os_token, release.safari, w


def _mobile() -> list[Agent]:
    safari_tail = "Mobile/15E148 Safari/604.1"
    webkit = "AppleWebKit/537.36 (KHTML, like Gecko)"
    agents: list[Agent] = []
    agents += _family(
        "mobile",
        0.22,
        (
            (
                f"Mozilla/5.0 (iPhone; CPU iPhone OS {os} like Mac OS X) AppleWebKit/605.1.15 "
                f"(KHTML, like Gecko) Version/{v} {safari_tail}",
                w,
            )
            for os, v, w in _ios_weighted(0.78)
        ),
    )
    agents += _family(
        "mobile",
        0.035,
        (
            (
                f"Mozilla/5.0 (iPhone; CPU iPhone OS {os} like Mac OS X) AppleWebKit/605.1.15 "
                f"(KHTML, like Gecko) CriOS/{chrome_full_version(c, i)} {safari_tail}",
                w * wc,
            )
            for os, _, w in _ios_weighted(0.7)
            for i, (c, wc) in enumerate(_versions(CHROME_MAJORS[:6], 0.5))
        ),
    )
    agents += _family(
        "mobile",
        0.02,
        (
            (
                f"Mozilla/5.0 (iPhone; CPU iPhone OS {os} like Mac OS X) AppleWebKit/605.1.15 "
                f"(KHTML, like Gecko) Mobile/15E148 Instagram {app}.0.0.{20 + j}.{80 + j} "
                f"({iphone.model}; iOS {os}; en_US; en-US; scale=3.00; {iphone.screen}; "
                f"{600000000 + app * 997})",
                w * 0.8**j,
            )
            for os, _, w in _ios_weighted(0.6)
            for j, app in enumerate((352, 349, 345))
            for iphone in IPHONE_MODELS[j::3]
        ),
    )
    agents += _family(
        "mobile",
        0.15,
        (
            (
                f"Mozilla/5.0 (Linux; Android 10; K) {webkit} "
                f"Chrome/{v}.0.0.0 Mobile Safari/537.36",
                w,
            )
            for v, w in _versions(CHROME_MAJORS, 0.6)
        ),
    )
    agents += _family(
        "mobile",
        0.055,
        (
            (
                f"Mozilla/5.0 (Linux; Android {android}; {model}) {webkit} "
                f"SamsungBrowser/{release.version} Chrome/{release.chromium}.0.0.0 "
                "Mobile Safari/537.36",
                w * wm * wa,
            )
            for release, w in zip(SAMSUNG_BROWSER, _recency(SAMSUNG_BROWSER, 0.55), strict=True)
            for m, model in enumerate(SAMSUNG_PHONES)
            for wm in (0.93**m,)
            for android, wa in {"15": 0.5, "14": 0.35, "13": 0.15}.items()
        ),
    )
    phones = SAMSUNG_PHONES[:12] + PIXEL_PHONES + OTHER_PHONES
    agents += _family(
        "mobile",
        0.03,
        (
            (
                f"Mozilla/5.0 (Linux; Android {android}; {model}; wv) {webkit} Version/4.0 "
                f"Chrome/{chrome_full_version(v, m)} Mobile Safari/537.36",
                w * 0.95**m * wa,
            )
            for v, w in _versions(CHROME_MAJORS[:5], 0.5)
            for m, model in enumerate(phones)
            for android, wa in {"15": 0.55, "14": 0.45}.items()
        ),
    )
    agents += _family(
        "mobile",
        0.02,
        (
            (
                f"Mozilla/5.0 (Linux; Android {android}; {model}) {webkit} Chrome/{v}.0.0.0 "
                "Mobile Safari/537.36",
                0.7 ** (109 - v) * 0.93**m,
            )
            for v in range(109, 100, -1)
            for m, model in enumerate(SAMSUNG_PHONES[6:] + PIXEL_PHONES[5:])
            for android in ("13",)
        ),
    )
    agents += _family(
        "mobile",
        0.01,
        (
            (f"Mozilla/5.0 (Android {android}; Mobile; rv:{v}.0) Gecko/{v}.0 Firefox/{v}.0", w * wa)
            for v, w in _versions(FIREFOX_MAJORS[:10], 0.6)
            for android, wa in {"15": 0.5, "14": 0.5}.items()
        ),
    )
    return agents


def _tablet() -> list[Agent]:
    webkit = "AppleWebKit/537.36 (KHTML, like Gecko)"
    agents: list[Agent] = []
    agents += _family(
        "tablet",
        0.03,
        (
            (
                f"Mozilla/5.0 (iPad; CPU OS {os} like Mac OS X) AppleWebKit/605.1.15 "
                f"(KHTML, like Gecko) Version/{v} Mobile/15E148 Safari/604.1",
                w,
            )
            for os, v, w in _ios_weighted(0.75)
        ),
    )
    agents += _family(
        "tablet",
        0.005,
        (
            (
                f"Mozilla/5.0 (iPad; CPU OS {os} like Mac OS X) AppleWebKit/605.1.15 "
                f"(KHTML, like Gecko) CriOS/{chrome_full_version(c, i)} Mobile/15E148 Safari/604.1",
                w * wc,
            )
            for os, _, w in _ios_weighted(0.6)
            for i, (c, wc) in enumerate(_versions(CHROME_MAJORS[:4], 0.5))
        ),
    )
    # Android tablets: no "Mobile" token, which is how parsers tell them from phones.
    agents += _family(
        "tablet",
        0.012,
        (
            (
                f"Mozilla/5.0 (Linux; Android {android}; {model}) {webkit} "
                f"SamsungBrowser/{release.version} Chrome/{release.chromium}.0.0.0 Safari/537.36",
                w * 0.9**m,
            )
            for release, w in zip(SAMSUNG_BROWSER, _recency(SAMSUNG_BROWSER, 0.55), strict=True)
            for m, model in enumerate(SAMSUNG_TABLETS)
            for android in ("14",)
        ),
    )
    agents += _family(
        "tablet",
        0.006,
        (
            (
                f"Mozilla/5.0 (Linux; Android 13; {model}) {webkit} Chrome/{v}.0.0.0 Safari/537.36",
                0.7 ** (109 - v),
            )
            for v in range(109, 102, -1)
            for model in (*SAMSUNG_TABLETS[3:], *LENOVO_TABLETS, "Pixel Tablet")
        ),
    )
    agents += _family(
        "tablet",
        0.004,
        (
            (
                f"Mozilla/5.0 (Linux; Android {android}; {model}) {webkit} "
                f"Silk/{v}.{3 + i}.{i + 1} "
                f"like Chrome/{chrome_full_version(v, i)} Safari/537.36",
                0.6**i,
            )
            for i, v in enumerate(CHROME_MAJORS[4:10])
            for model, android in FIRE_TABLETS.items()
        ),
    )
    return agents


@functools.cache
def human_agents() -> tuple[Agent, ...]:
    """Every human UA with its share of human requests (weights sum to 1)."""
    agents = _desktop() + _mobile() + _tablet()
    merged: dict[str, Agent] = {}
    for agent in agents:  # a few variants coincide; keep one entry per string
        if agent.ua in merged:
            old = merged[agent.ua]
            merged[agent.ua] = Agent(agent.ua, old.device, old.weight + agent.weight)
        else:
            merged[agent.ua] = agent
    total = sum(a.weight for a in merged.values())
    return tuple(Agent(a.ua, a.device, a.weight / total) for a in merged.values())
