"""Polling national agencies' CAP feeds: one pass per feed, bounded and reported.

What a pass guarantees:

- **Bounded.** The feed and every alert are fetched with a timeout (each step and the
  whole body), a size limit counted as bytes arrive, and at most three redirects
  (``feeds.fetch``). A pass stops taking entries after ``CAP_FEED_PASS_SECONDS``.
- **Conditional.** The feed is asked with the ETag / Last-Modified it last gave; a 304 is
  a successful pass with nothing to do. Those validators are stored only when every
  entry of the feed was dealt with, so an entry left for later is never hidden by a 304.
- **Once.** An entry dealt with is recorded (``FeedEntry``: its key is its id, link and
  updated time) and not fetched again; an alert already held (sender + identifier, from
  any feed or desk) is a duplicate; an alert whose ``references`` name one we hold is
  attached to that crisis; a new one opens a crisis only when a protocol's trigger
  matches (``feeds.triggers``). Receiving is ``crisis.services.cap_intake``'s one
  transaction, so an alert is opened or attached once even if two passes race.
- **Not fatal.** A feed that times out, answers junk, is too large or refuses us is
  recorded on its row in words (``last_error``) with the count of failures in a row, and
  is tried again after an exponential backoff (``CAP_FEED_POLL_SECONDS`` doubled per
  failure, at most ``CAP_FEED_MAX_BACKOFF_SECONDS``); other feeds go on. An alert that
  cannot be fetched is retried at the next pass; one that is not a usable CAP alert is
  recorded as refused, with the reason, and not fetched again.
- **One poller per feed.** A pass claims the feed with a lease (an UPDATE that succeeds
  for one caller); a second worker finds it taken and does nothing.
"""

from __future__ import annotations

import hashlib
import io
import logging
import time
from dataclasses import dataclass, field
from datetime import UTC, timedelta
from urllib.parse import urljoin, urlparse

import feedparser
from django.conf import settings
from django.db import IntegrityError
from django.db.models import Case, Q, When
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from core.errors import InvalidInput
from crisis import cap
from crisis.services import cap_intake
from directory.models import AgencyType, Desk, MemberState
from feeds import triggers
from feeds.fetch import FetchFailed, fetch
from feeds.models import CapFeed, CapTrigger, EntryOutcome, FeedEntry, FeedStatus

logger = logging.getLogger(__name__)

FEED_ACCEPT = "application/atom+xml, application/rss+xml;q=0.9, application/xml;q=0.8, */*;q=0.1"
ALERT_ACCEPT = "application/cap+xml, application/xml;q=0.9, text/xml;q=0.8, */*;q=0.1"
CAP_TYPES = ("application/cap+xml", "application/xml", "text/xml")
LEASE = timedelta(minutes=10)


# --- the CAP_FEEDS setting ------------------------------------------------------------------


def settings_feed_problems(value) -> list[str]:
    """What is wrong with the shape of ``CAP_FEEDS`` (a JSON list of {url, state, agency})."""
    if not isinstance(value, list):
        return ['CAP_FEEDS must be a JSON list of {"url", "state", "agency"} objects.']
    problems = []
    for n, item in enumerate(value, start=1):
        if not isinstance(item, dict) or set(item) != {"url", "state", "agency"}:
            problems.append(f"CAP_FEEDS item {n} must have exactly url, state and agency.")
        elif not all(isinstance(v, str) and v.strip() for v in item.values()):
            problems.append(f"CAP_FEEDS item {n}: url, state and agency must be non-empty text.")
        elif urlparse(item["url"]).scheme not in ("http", "https"):
            problems.append(f"CAP_FEEDS item {n}: the url must start with http:// or https://.")
    return problems


def sync_feeds_from_settings() -> list[str]:
    """Make the feeds named by ``CAP_FEEDS`` exist and be active (agency and state as
    given); feeds that came from the setting and are no longer in it are switched off.
    Idempotent. Returns the problems found (unusable items are skipped, not fatal)."""
    wanted = settings.CAP_FEEDS
    problems = settings_feed_problems(wanted)
    if problems:
        return problems
    states = {s.code: s for s in MemberState.objects.all()}
    kept = []
    for item in wanted:
        state = states.get(item["state"].strip().upper())
        if state is None:
            problems.append(
                f"CAP_FEEDS: {item['url']} names state {item['state']!r}, which is not a "
                "member state; skipped."
            )
            continue
        feed, _created = CapFeed.objects.update_or_create(
            url=item["url"].strip(),
            defaults={"agency": item["agency"].strip()[:200], "state": state,
                      "from_settings": True, "is_active": True},
        )  # fmt: skip
        kept.append(feed.pk)
    CapFeed.objects.filter(from_settings=True, is_active=True).exclude(pk__in=kept).update(
        is_active=False
    )
    for problem in problems:
        logger.warning("%s", problem)
    return problems


# --- one pass ---------------------------------------------------------------------------------


@dataclass
class PassReport:
    """What one pass over a feed did (its words go on the feed's row)."""

    feed_id: int
    ok: bool = True
    not_modified: bool = False
    error: str = ""
    outcomes: dict[str, list[str]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    left_for_later: int = 0

    def count(self, outcome: str) -> int:
        return len(self.outcomes.get(outcome, []))

    def add(self, outcome: str, what: str) -> None:
        self.outcomes.setdefault(outcome, []).append(what)

    def summary(self) -> str:
        """The pass in words, in the active language (``_record`` stores it in the site's
        language; the admin's "Poll now" flash says it in the reader's)."""
        if not self.ok:
            return _("Failed: %(error)s") % {"error": self.error}
        if self.not_modified:
            return _("Not changed since the last poll (HTTP 304).")
        parts = []
        if self.count(EntryOutcome.OPENED):
            parts.append(
                _("%(n)d opened a crisis (%(alerts)s)")
                % {
                    "n": self.count(EntryOutcome.OPENED),
                    "alerts": ", ".join(self.outcomes[EntryOutcome.OPENED]),
                }
            )
        words = {
            EntryOutcome.ATTACHED: _("%(n)d attached to its crisis"),
            EntryOutcome.DUPLICATE: _("%(n)d already received"),
            EntryOutcome.UNMATCHED: _("%(n)d matched no protocol trigger"),
            EntryOutcome.REFUSED: _("%(n)d refused"),
        }
        parts += [w % {"n": self.count(o)} for o, w in words.items() if self.count(o)]
        sentences = [
            _("New alerts: %(list)s.") % {"list": "; ".join(parts)}
            if parts
            else _("No new alerts.")
        ]
        if self.problems:
            sentences.append(
                _("%(n)d could not be fetched and will be tried again.") % {"n": len(self.problems)}
            )
        if self.left_for_later:
            sentences.append(_("%(n)d left for the next poll.") % {"n": self.left_for_later})
        return " ".join(sentences)


def due_feed_ids(now=None) -> list[int]:
    """Active feeds whose backoff (if any) has passed."""
    now = now or timezone.now()
    return list(
        CapFeed.objects.filter(is_active=True)
        .filter(Q(next_poll_at__isnull=True) | Q(next_poll_at__lte=now))
        .order_by("id")
        .values_list("pk", flat=True)
    )


def poll_due_feeds() -> list[PassReport]:
    """One pass over every due feed, in this process (``manage.py poll_cap_feeds``)."""
    sync_feeds_from_settings()
    reports = [poll_feed(feed_id=pk) for pk in due_feed_ids()]
    return [r for r in reports if r is not None]


def poll_feed(*, feed_id: int) -> PassReport | None:
    """One pass over one feed (see the module docstring). Safe to run twice at once: the
    second finds the feed leased and returns None, as it does for a switched-off feed.
    Never raises for what the feed or its alerts do; the outcome is on the feed's row."""
    now = timezone.now()
    claimed = (
        CapFeed.objects.filter(pk=feed_id, is_active=True)
        .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
        .update(lease_until=now + LEASE)
    )
    if not claimed:
        return None
    feed = CapFeed.objects.select_related("state", "desk").get(pk=feed_id)
    report = PassReport(feed_id=feed_id)
    validators = ("", "")
    try:
        validators = _poll(feed, report)
    except FetchFailed as exc:
        report.ok, report.error = False, str(exc)
    except Exception as exc:  # a fault of ours must not stop other feeds or keep the lease
        logger.exception("CAP feed %s: pass failed", feed.url)
        report.ok = False
        report.error = f"an internal error stopped the pass ({type(exc).__name__}); see the log."
    _record(feed, report, validators)
    return report


def _poll(feed: CapFeed, report: PassReport) -> tuple[str, str]:
    """Fetch, parse and take the feed's entries; the validators to keep (or empty)."""
    got = fetch(
        feed.url,
        max_bytes=settings.CAP_FEED_MAX_BYTES,
        accept=FEED_ACCEPT,
        etag=feed.etag,
        last_modified=feed.last_modified,
    )
    if got.not_modified:
        report.not_modified = True
        return feed.etag, feed.last_modified
    parsed = feedparser.parse(
        io.BytesIO(got.body),
        response_headers={"content-location": feed.url, "content-type": got.content_type},
    )
    if not parsed.get("version"):
        why = parsed.get("bozo_exception")
        raise FetchFailed(
            "the answer is not an Atom or RSS feed"
            + (f" ({type(why).__name__}: {why})." if why else ".")
        )
    desk = _leading_desk(feed)
    found = [_entry_of(feed, e) for e in _oldest_first(parsed.entries)]
    seen = set(
        FeedEntry.objects.filter(feed=feed, key__in=[f["key"] for f in found]).values_list(
            "key", flat=True
        )
    )
    fresh = [f for f in found if f["key"] not in seen]
    trigger_list = list(
        CapTrigger.objects.filter(is_active=True)
        .select_related("protocol")
        .prefetch_related("states")
    )
    stop_at = time.monotonic() + settings.CAP_FEED_PASS_SECONDS
    for n, entry in enumerate(fresh):
        if time.monotonic() > stop_at or n >= settings.CAP_FEED_MAX_ENTRIES:
            report.left_for_later = len(fresh) - n
            break
        _take_entry(feed, desk, entry, trigger_list, report)
    complete = not report.problems and not report.left_for_later
    return (got.etag, got.last_modified) if complete else ("", "")


def _leading_desk(feed: CapFeed) -> Desk:
    # A national agency's alert is for the state's disaster-management desk first (not,
    # say, its CERT or coast guard), then the first other active desk by code.
    desk = feed.desk or (
        Desk.objects.filter(state=feed.state, is_active=True)
        .order_by(Case(When(agency_type=AgencyType.DISASTER_MANAGEMENT, then=0), default=1), "code")
        .first()
    )
    if desk is None:
        raise FetchFailed(
            f"{feed.state.name} has no active desk to lead the crises this feed opens; add "
            "one or name a desk on the feed."
        )
    return desk


def _field(entry, name: str):
    """An entry's own field (feedparser's aliases, updated -> published, warn)."""
    return dict.get(entry, name)


def _oldest_first(entries) -> list:
    """Feeds list the newest first; take the oldest first, so an Alert precedes its Update."""
    stamps = [_field(e, "updated_parsed") or _field(e, "published_parsed") for e in entries]
    if all(stamps):
        return [e for _, _, e in sorted(zip(stamps, range(len(entries)), entries, strict=True))]
    return list(reversed(entries))


def _entry_of(feed: CapFeed, entry) -> dict:
    """The entry's id, the link to its CAP document, and its key."""
    links = _field(entry, "links") or []
    href = next((lk.get("href") for lk in links if lk.get("type") == CAP_TYPES[0]), None)
    href = href or next((lk.get("href") for lk in links if lk.get("type") in CAP_TYPES), None)
    href = urljoin(feed.url, href or _field(entry, "link") or "")
    entry_id = _field(entry, "id") or ""
    updated = _field(entry, "updated") or _field(entry, "published") or ""
    key = hashlib.sha256(f"{entry_id}\n{href}\n{updated}".encode()).hexdigest()
    return {"key": key, "entry_id": entry_id[:500], "link": href[:500]}


def _take_entry(feed, desk, entry: dict, trigger_list, report: PassReport) -> None:
    """Fetch one entry's alert and receive it; record what became of it."""
    link = entry["link"]
    if urlparse(link).scheme not in ("http", "https"):
        _remember(feed, entry, EntryOutcome.REFUSED, "The entry links to no http(s) address.")
        report.add(EntryOutcome.REFUSED, link)
        return
    try:
        got = fetch(link, max_bytes=cap.MAX_BYTES, accept=ALERT_ACCEPT)
    except FetchFailed as exc:
        report.problems.append(f"alert {link}: {exc}")
        return
    try:
        message, info = cap_intake.parse_for_intake(got.body)
        trigger = triggers.first_match(trigger_list, info, feed)
        intake = cap_intake.receive_polled_cap_alert(
            desk=desk,
            xml=got.body,
            category=trigger.protocol.category if trigger else None,
            source={"feed_id": feed.pk, "agency": feed.agency, "url": link},
        )
    except InvalidInput as exc:
        element = (exc.details or {}).get("element")
        reason = exc.message + (f" (element {element})" if element else "")
        _remember(feed, entry, EntryOutcome.REFUSED, reason)
        report.add(EntryOutcome.REFUSED, link)
        return
    except IntegrityError:
        # The same alert received by a concurrent pass: the next pass sees a duplicate.
        report.problems.append(f"alert {link}: received concurrently; will be checked again.")
        return
    ids = {"identifier": message.identifier, "sender": message.sender}
    if intake is None:
        _remember(feed, entry, EntryOutcome.UNMATCHED, _unmatched_reason(message, info), **ids)
        report.add(EntryOutcome.UNMATCHED, message.identifier)
        return
    outcome = EntryOutcome(str(intake.outcome))
    reason = f"Protocol {trigger.protocol.name}." if trigger and intake.opened else ""
    if intake.crisis.exercise:
        # A drill's alert only ever opens or joins an exercise crisis (cap_intake).
        reason = f"{reason} Exercise alert: an exercise crisis, never a real one.".strip()
    _remember(feed, entry, outcome, reason, crisis=intake.crisis, alert=intake.alert, **ids)
    report.add(outcome, intake.crisis.reference)


def _unmatched_reason(message, info) -> str:
    if message.msg_type == "Cancel":
        return "A Cancel of an alert we do not hold."
    return (
        f"No protocol trigger matches event {info.event!r} with severity {info.severity}; "
        "nothing opened."
    )


def _remember(feed, entry: dict, outcome: str, reason: str, **fields) -> None:
    FeedEntry.objects.get_or_create(
        feed=feed,
        key=entry["key"],
        defaults={"entry_id": entry["entry_id"], "link": entry["link"], "outcome": outcome,
                  "reason": reason, **fields},
    )  # fmt: skip


def _backoff_seconds(failures: int) -> float:
    base = settings.CAP_FEED_POLL_SECONDS
    return min(base * 2 ** max(failures - 1, 0), settings.CAP_FEED_MAX_BACKOFF_SECONDS)


def _record(feed: CapFeed, report: PassReport, validators: tuple[str, str]) -> None:
    """Write the pass's outcome on the feed's row and release the lease."""
    now = timezone.now()
    # Stored in the site's language whoever polls (a feed's row is read by everyone).
    with translation.override(settings.LANGUAGE_CODE):
        result = report.summary()
    values = {"last_polled_at": now, "last_result": result, "lease_until": None}
    if report.ok:
        values.update(last_success_at=now, failures=0, next_poll_at=None)
        if report.problems:
            values.update(last_error="; ".join(report.problems[:3]), last_error_at=now)
        if validators != ("", "") or report.not_modified:
            values.update(etag=validators[0][:500], last_modified=validators[1][:100])
        else:
            values.update(etag="", last_modified="")
    else:
        failures = feed.failures + 1
        values.update(
            failures=failures,
            last_error=report.error,
            last_error_at=now,
            next_poll_at=now + timedelta(seconds=_backoff_seconds(failures)),
        )
        logger.warning("CAP feed %s failed (%s in a row): %s", feed.url, failures, report.error)
    CapFeed.objects.filter(pk=feed.pk).update(**values)


# --- health in words -------------------------------------------------------------------------


def _when(value) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if value else "never"


def feed_status(feed: CapFeed) -> FeedStatus:
    if not feed.is_active:
        return FeedStatus.OFF
    if feed.last_polled_at is None:
        return FeedStatus.NOT_POLLED
    return FeedStatus.FAILING if feed.failures else FeedStatus.OK


def health_words(feed: CapFeed) -> str:
    """The feed's health as a coordinator reads it."""
    status = feed_status(feed)
    if status == FeedStatus.OFF:
        return "Switched off; not polled."
    if status == FeedStatus.NOT_POLLED:
        return "Not polled yet."
    if status == FeedStatus.FAILING:
        polls = "poll" if feed.failures == 1 else "polls"
        return (
            f"Failing: {feed.last_error} ({feed.failures} failed {polls} in a row; last "
            f"success {_when(feed.last_success_at)}; next try {_when(feed.next_poll_at)})."
        )
    text = f"OK: polled {_when(feed.last_polled_at)}. {feed.last_result}"
    if feed.last_error and feed.last_error_at and feed.last_error_at >= feed.last_polled_at:
        text += f" Problem: {feed.last_error}"
    return text
