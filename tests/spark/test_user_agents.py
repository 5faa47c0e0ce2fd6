"""Real User-Agent strings and the class a person assigns them (docs/user-agents.md).

Every string below was sent by a real client: copied from public access logs (an Apache
server's combined logs, a honeypot's, a hackathon app's) or from the vendor's own
documentation of its crawler. The expected class is written by hand: `human` is a browser
on a device a person holds; `automated` is everything the report must keep out of the
human top lists. A browser's device type is checked too; an automated client's only where
it has no User-Agent worth the name (`other`).
"""

from __future__ import annotations

import pytest

from spark.enrich import DEVICE_TYPES, HUMAN_DEVICE_TYPES, classify

HUMAN, AUTOMATED = "human", "automated"

DESKTOP = [
    # Chrome, Firefox, Edge, Opera, IE 11, Safari, Chrome OS, Yandex Browser, Sogou
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Safari/537.36 Edg/124.0.2478.80",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:126.0) Gecko/20100101 Firefox/126.0",
    "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/44.0.2403.157 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.4.1 Safari/605.1.15",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_10_1) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/39.0.2171.95 Safari/537.36",
    "Mozilla/5.0 (Windows NT 6.1; WOW64; Trident/7.0; rv:11.0) like Gecko",
    "Mozilla/5.0 (Windows NT 6.1) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/39.0.2171.95 Safari/537.36 OPR/26.0.1656.60",
    "Mozilla/5.0 (X11; CrOS x86_64 6310.68.0) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/39.0.2171.96 Safari/537.36",
    "Mozilla/5.0 (Windows NT 6.1; WOW64; rv:35.0) Gecko/20100101 Firefox/35.0",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/122.0.0.0 YaBrowser/24.4.0.0 Safari/537.36",
    "Mozilla/5.0 (Windows NT 5.1) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/58.0.3029.110 Safari/537.36 SE 2.X MetaSr 1.0",
    "Mozilla/4.0 (compatible; MSIE 8.0; Windows NT 5.1; Trident/4.0)",
]
MOBILE = [
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 8_4_1 like Mac OS X) AppleWebKit/600.1.4 "
    "(KHTML, like Gecko) Version/8.0 Mobile/12H321 Safari/600.1.4",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Mobile Safari/537.36",
    "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Mobile Safari/537.36",
    "Mozilla/5.0 (Linux; Android 9; SAMSUNG SM-G973U1) AppleWebKit/537.36 (KHTML, like Gecko) "
    "SamsungBrowser/12.1 Chrome/79.0.3945.136 Mobile Safari/537.36",
    "Mozilla/5.0 (Android; Mobile; rv:40.0) Gecko/40.0 Firefox/40.0",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 8_4_1 like Mac OS X) AppleWebKit/600.1.4 "
    "(KHTML, like Gecko) Mobile/12H321 [FBAN/FBIOS;FBAV/38.0.0.6.79;FBBV/14316658;"
    "FBDV/iPhone7,2;FBMD/iPhone;FBSN/iPhone OS;FBSV/8.4.1;FBSS/2;FBCR/Vodafone IN;"
    "FBID/phone;FBLC/en_GB;FBOP/5]",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 8_4_1 like Mac OS X) AppleWebKit/600.1.4 "
    "(KHTML, like Gecko) Mobile/12H321 Twitter for iPhone",
    "Mozilla/5.0 (iPod touch; CPU iPhone OS 8_3 like Mac OS X) AppleWebKit/600.1.4 "
    "(KHTML, like Gecko) CriOS/42.0.2311.47 Mobile/12F69 Safari/600.1.4",
    "Mozilla/5.0 (Mobile; Windows Phone 8.1; Android 4.0; ARM; Trident/7.0; Touch; rv:11.0; "
    "IEMobile/11.0; NOKIA; Lumia 520) like iPhone OS 7_0_3 Mac OS X AppleWebKit/537 "
    "(KHTML, like Gecko) Mobile Safari/537",
    "Mozilla/5.0 (BB10; Touch) AppleWebKit/537.35+ (KHTML, like Gecko) Version/10.3.1.2576 "
    "Mobile Safari/537.35+",
    "UCWEB/2.0 (MIDP-2.0; U; Adr 4.0.4; en-US; GT-S5303) U2/1.0.0 UCBrowser/9.4.0.460 U2/1.0.0 "
    "Mobile",
    "SAMSUNG-GT-C3322 Opera/9.80 (J2ME/MIDP; Opera Mini/6.5.28159/37.6488; U; en) "
    "Presto/2.12.423 Version/12.16",
    "Mozilla/5.0 (Linux; Android 5.0.1; SM-N910G Build/LRX22C) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/45.0.2454.84 Mobile Safari/537.36",
]
TABLET = [
    "Mozilla/5.0 (iPad; CPU OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.1 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (iPad; CPU OS 8_4 like Mac OS X) AppleWebKit/600.1.4 (KHTML, like Gecko) "
    "Mobile/12H143 [FBAN/FBIOS;FBAV/39.0.0.36.238;FBBV/14758432;FBDV/iPad4,1;FBMD/iPad;"
    "FBSN/iPhone OS;FBSV/8.4;FBSS/2; FBCR/;FBID/tablet;FBLC/en_GB;FBOP/1]",
    "Mozilla/5.0 (Linux; Android 13; SM-X710) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/119.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Linux; Android 4.4.2; SM-T235 Build/KOT49H) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/45.0.2454.84 Safari/537.36",
    "Mozilla/5.0 (Linux; U; Android 4.4.2; en-gb; SM-T211 Build/KOT49H) AppleWebKit/534.30 "
    "(KHTML, like Gecko) Version/4.0 Safari/534.30",
    "Mozilla/5.0 (Linux; Android 9; KFTRWI) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Silk/108.8.5 like Chrome/108.0.5359.220 Safari/537.36",
]
CRAWLERS = [  # search engines
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/86.0.4240.96 Mobile Safari/537.36 "
    "(compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "Googlebot-Image/1.0",
    "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 7_0 like Mac OS X) AppleWebKit/537.51.1 "
    "(KHTML, like Gecko) Version/7.0 Mobile/11A465 Safari/9537.53 "
    "(compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
    "Mozilla/5.0 (compatible; YandexBot/3.0; +http://yandex.com/bots)",
    "Mozilla/5.0 (compatible; Baiduspider/2.0; +http://www.baidu.com/search/spider.html)",
    "Mozilla/5.0 (compatible; Yahoo! Slurp; http://help.yahoo.com/help/us/ysearch/slurp)",
    "DuckDuckBot/1.1; (+http://duckduckgo.com/duckduckbot.html)",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_10_1) AppleWebKit/600.2.5 (KHTML, like Gecko) "
    "Version/8.0.2 Safari/600.2.5 (Applebot/0.1; +http://www.apple.com/go/applebot)",
    "Mozilla/5.0 (compatible; MSIE 9.0; Windows NT 6.1; Trident/5.0); 360Spider",
    "Sogou web spider/4.0(+http://www.sogou.com/docs/help/webmasters.htm#07)",
]
SEO_AND_ARCHIVE = [
    "Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)",
    "Mozilla/5.0 (compatible; SemrushBot/7~bl; +http://www.semrush.com/bot.html)",
    "Mozilla/5.0 (compatible; MJ12bot/v1.4.8; http://mj12bot.com/)",
    "Mozilla/5.0 (compatible; DotBot/1.2; +https://opensiteexplorer.org/dotbot; help@moz.com)",
    "Mozilla/5.0 (compatible; Ezooms/1.0; help@moz.com)",
    "Mozilla/5.0 (compatible; BLEXBot/1.0; +http://webmeup-crawler.com/)",
    "Mozilla/5.0 (compatible; XML Sitemaps Generator; https://www.xml-sitemaps.com) "
    "Gecko XML-Sitemaps/1.0",
    "Mozilla/5.0 (compatible; archive.org_bot; Wayback Machine Live Record; "
    "+http://archive.org/details/archive.org_bot)",
    "ia_archiver (+http://www.alexa.com/site/help/webmasters; crawler@alexa.com)",
    "Mozilla/5.0 (compatible; Dataprovider.com)",
]
FEED_READERS = [
    "Feedfetcher-Google; (+http://www.google.com/feedfetcher.html; 5 subscribers; feed-id=4712391)",
    "UniversalFeedParser/5.2.1 +https://code.google.com/p/feedparser/",
    "Tiny Tiny RSS/20.08 (http://tt-rss.org/)",
    "Feedly/1.0 (+http://www.feedly.com/fetcher.html; 12 subscribers; like FeedFetcher-Google)",
    "NewsBlur Feed Fetcher - 3 subscribers - http://www.newsblur.com/site/6126123/ "
    "(Mozilla/5.0 (Macintosh; Intel Mac OS X 10_12_3) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/56.0.2924.87 Safari/537.36)",
    "Mozilla/5.0 (compatible; PaperLiBot/2.1; http://support.paper.li/entries/20023257)",
]
LIBRARIES_AND_CLI = [
    "curl/8.5.0",
    "curl/7.24.0",
    "Wget/1.21.4",
    "Wget(linux)",
    "python-requests/2.31.0",
    "Python-urllib/2.7",
    "Python/3.11 aiohttp/3.9.1",
    "Go-http-client/1.1",
    "okhttp/4.12.0",
    "Java/1.8.0_45",
    "libwww-perl/6.49",
    "Apache-HttpClient/4.5.6 (Java/1.8.0_112)",
    "Jakarta Commons-HttpClient/3.0.1",
    "Google-HTTP-Java-Client/1.17.0-rc (gzip)",
    "axios/1.6.8",
    "node-fetch/1.0 (+https://github.com/bitinn/node-fetch)",
    "HTTPie/3.2.2",
    "PostmanRuntime/7.37.3",
    "Dalvik/2.1.0 (Linux; U; Android 5.1.1; SM-J320FN Build/LMY47V)",
    "Mozilla/5.0 zgrab/0.x",
    "masscan/1.0 (https://github.com/robertdavidgraham/masscan)",
    "Mozilla/5.0 (compatible; Nmap Scripting Engine; https://nmap.org/book/nse.html)",
]
MONITORS = [
    "Mozilla/5.0+(compatible; UptimeRobot/2.0; http://www.uptimerobot.com/)",
    "Pingdom.com_bot_version_1.4_(http://www.pingdom.com/)",
    "check_http/v2.3.3 (monitoring-plugins 2.3.3)",
    "FreeWebMonitoring SiteChecker/0.2 (+http://www.freewebmonitoring.com/bot.html)",
    "DowntimeDetector/1.0 (+http://downforeveryoneorjustme.com)",
    "Mozilla/5.0 (compatible; StatusCake)",
    "W3C_Validator/1.3 http://validator.w3.org/services",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko; "
    "Google Page Speed Insights) Chrome/27.0.1453 Safari/537.36",
]
LINK_PREVIEWS = [
    "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
    "Twitterbot/1.0",
    "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
    "Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)",
    "TelegramBot (like TwitterBot)",
    "WhatsApp/2.20.202.18 A",
    "LinkedInBot/1.0 (compatible; Mozilla/5.0; Apache-HttpClient +http://www.linkedin.com)",
    "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10.9; rv:28.0) Gecko/20100101 Firefox/28.0 "
    "(FlipboardProxy/1.1; +http://flipboard.com/browserproxy)",
]
HEADLESS = [
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "HeadlessChrome/78.0.3882.0 Safari/537.36",
    "Mozilla/5.0 (Unknown; Linux x86_64) AppleWebKit/538.1 (KHTML, like Gecko) "
    "PhantomJS/2.1.1 Safari/538.1",
]
NOT_A_BROWSER = [  # no User-Agent, or one that names no browser, OS or known bot
    None,
    "",
    "-",
    "Mozilla/5.0",
    "Apache/2.4.29 (Ubuntu) OpenSSL/1.1.1 (internal dummy connection)",
    "Hello, World",
    "Ruby",
]

TABLE = (
    [(ua, HUMAN, "desktop") for ua in DESKTOP]
    + [(ua, HUMAN, "mobile") for ua in MOBILE]
    + [(ua, HUMAN, "tablet") for ua in TABLET]
    + [
        (ua, AUTOMATED, None)
        for ua in (
            CRAWLERS
            + SEO_AND_ARCHIVE
            + FEED_READERS
            + LIBRARIES_AND_CLI
            + MONITORS
            + LINK_PREVIEWS
            + HEADLESS
        )
    ]
    + [(ua, AUTOMATED, "other") for ua in NOT_A_BROWSER]
)


def test_the_table_is_big_enough_and_has_no_duplicates() -> None:
    agents = [ua for ua, _, _ in TABLE]
    assert len(agents) >= 80
    assert len(set(agents)) == len(agents)


@pytest.mark.parametrize(("user_agent", "expected", "device_type"), TABLE)
def test_class(user_agent: str | None, expected: str, device_type: str | None) -> None:
    result = classify(user_agent)
    is_human = result.device_type in HUMAN_DEVICE_TYPES
    assert (HUMAN if is_human else AUTOMATED) == expected, result
    assert result.device_type in DEVICE_TYPES
    if device_type is not None:
        assert result.device_type == device_type, result


@pytest.mark.parametrize(
    ("user_agent", "device"),
    [
        # Clean product names, never a fragment such as "Feedfetcher-Google; (+http:".
        (FEED_READERS[0], "Feedfetcher-Google"),
        (FEED_READERS[1], "UniversalFeedParser"),
        (FEED_READERS[2], "Tiny Tiny RSS"),
        (SEO_AND_ARCHIVE[4], "Ezooms"),
        (CRAWLERS[1], "Googlebot"),
        (CRAWLERS[5], "YandexBot"),
        (CRAWLERS[7], "Yahoo! Slurp"),
        (LIBRARIES_AND_CLI[2], "Wget"),
        (LIBRARIES_AND_CLI[6], "aiohttp"),
        (LIBRARIES_AND_CLI[9], "Java"),
        (LINK_PREVIEWS[0], "facebookexternalhit"),
        (LINK_PREVIEWS[2], "Slackbot"),
        (HEADLESS[0], "HeadlessChrome"),
        (MONITORS[-1], "Google Page Speed Insights"),
        (NOT_A_BROWSER[4], "Apache"),
        (MOBILE[12], "Samsung GT-C3322"),
    ],
)
def test_automated_clients_get_readable_names(user_agent: str, device: str) -> None:
    assert classify(user_agent).device == device
