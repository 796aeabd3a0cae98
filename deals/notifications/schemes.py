"""Which Apprise schemes a channel may use: those whose every connection the guard checks.

A scheme is listed here once the egress test (tests/deals/notifications/test_egress.py) has sent
through it at loopback sentinels outside the allow list and seen nothing arrive: its plugin
connects through Python sockets in the sending thread, so `netguard` resolves and checks each
destination. Desktop and local-IPC schemes (D-Bus, GNOME, KDE, macOS, Windows, local syslog,
blink(1)) and plugins the test cannot build or that need libraries not installed here are not
listed: a URL for them is refused at save with a message saying so. Add a scheme here only
together with a URL for it in that test.
"""

from __future__ import annotations

GUARDED_SCHEMES = frozenset(
    """
    46elks apprise apprises atalk bark barks betterstack bluesky brevo bsky bulksms bulkvs
    burstsms chanify clickatell clicksend cliq d7sms dapnet deltachat deltachats dingtalk
    discord dot eight00com elks emby embys enigma2 enigma2s exotel fcm feishu firehydrant flock
    flowtriq flowtriqs form forms freemobile gchat goalert goalerts gorush gorushs gotify
    gotifys groundmail groupme guilded gupshup hassio hassios httpsms humhub humhubs ifttt ilert
    incidentio infobip irc ircs jellyfin jellyfins jira join json jsons kakao kakaotalk kaleyra
    klr kodi kodis kook kudosity lark lfg line mailersend mailgun mailto mailtos mastodon
    mastodons matrix matrixs misskey misskeys mmost mmosts mobilemessage mobilemsg msg91 ncloud
    nclouds nctalk nctalks nexmo notica noticas notifiarr notifyre ntfy ntfys onebot onebots
    onesignal opsgenie pagerduty parsep parseps pbul pjet pjets postmark pover psafer psafers
    pushdeer pushdeers pushed pushme pushplus pushy qq revolt rocket rockets rsyslog schan
    sendgrid seven sfr signal signalgrid signals signl4 simplepush sinch slack smsc smseagle
    smseagles smsmanager smsmgr smstunnel smtp2go sparkpost spike splunk spugpush spush
    squadcast synology synologys telesign telnyx tgram toot toots tweet twist twitter vapid
    viber victorops voipms vonage webex wecom wecombot whapi workflow workflows wxteams x xbmc
    xbmcs xmatters xml xmls zalo zcliq zohocliq zoom
    """.split()
)


def scheme_refusal(scheme: str) -> str | None:
    """Why channels may not use `scheme`, or None when its connections are guarded."""
    scheme = (scheme or "").lower()
    if scheme in GUARDED_SCHEMES:
        return None
    return (
        f"{scheme}:// channels are not supported here: this server cannot check where that "
        "service connects, so it could reach private addresses. Use another service"
    )


def scheme_host_is_place(plugin_class) -> bool:
    """Whether every URL form of this plugin names a host to connect to in its host field
    (json://HOST, rsyslog://HOST), rather than sometimes a token (tgram://TOKEN, ntfy://TOPIC)."""
    templates = getattr(plugin_class, "templates", ()) or ()
    return bool(templates) and all("{host}" in t for t in templates)
