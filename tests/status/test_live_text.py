"""The text so far a status replica keeps per live reading, and how a client resumes it."""

from __future__ import annotations

from services.status.api.live_text import LiveTexts
from services.status.api.resume import Resume, TextCursor, parse_last_event_id
from shared.events.reading_delta import ReadingDelta


def piece(text: str, offset: int, attempt: str = "a1", version: int = 1) -> ReadingDelta:
    return ReadingDelta(reading_id="r", version=version, index=0, text=text, attempt=attempt,
                        offset=offset)  # fmt: skip


def test_pieces_that_follow_on_make_the_text_and_repeats_change_nothing() -> None:
    texts = LiveTexts()
    assert texts.add(piece("Hello ", 0))
    assert texts.add(piece("world", 6))
    assert texts.add(piece("Hello ", 0))  # heard twice: old news
    assert texts.add(piece("lo wor", 3))  # overlaps what is known: only the new part counts
    entry = texts.get("r")
    assert entry is not None and entry.text == "Hello world" and not entry.incomplete


def test_a_gap_marks_the_text_incomplete_until_the_reader_says_it_all() -> None:
    texts = LiveTexts()
    assert texts.add(piece("Hello ", 0))
    assert not texts.add(piece("again", 11))  # "world" was lost
    entry = texts.get("r")
    assert entry is not None and entry.incomplete and entry.text == "Hello "
    texts.replace(piece("Hello world again", 0))
    entry = texts.get("r")
    assert entry is not None and entry.text == "Hello world again" and not entry.incomplete


def test_a_new_attempt_or_version_starts_over_and_late_pieces_of_older_ones_are_ignored() -> None:
    texts = LiveTexts()
    texts.add(piece("First try", 0, attempt="a1"))
    texts.add(piece("Second", 0, attempt="a2"))
    entry = texts.get("r")
    assert entry is not None and (entry.attempt, entry.text) == ("a2", "Second")
    texts.add(piece("Version two", 0, attempt="b1", version=2))
    assert texts.add(piece(" late", 9, attempt="a2", version=1))  # ignored, not a gap
    entry = texts.get("r")
    assert entry is not None and (entry.version, entry.text) == (2, "Version two")


def test_memory_is_bounded_by_count() -> None:
    texts = LiveTexts(max_readings=3)
    for i in range(5):
        texts.add(ReadingDelta(reading_id=f"r{i}", index=0, text="x", attempt="a", offset=0))
    assert len(texts) == 3 and texts.get("r0") is None and texts.get("r4") is not None


def test_last_event_ids_parse_and_anything_else_is_a_fresh_start() -> None:
    assert parse_last_event_id("42") == Resume(42)
    assert parse_last_event_id("42.0f3a.17") == Resume(42, "0f3a", 17)
    assert parse_last_event_id("4" * 30) == Resume(2**63 - 1)  # beyond the last sequence
    for junk in (None, "", "abc", "42.zz.1", "-1", "1.2"):
        assert parse_last_event_id(junk) == Resume()


def test_a_client_is_sent_only_what_it_lacks_and_all_of_a_new_attempt() -> None:
    texts = LiveTexts()
    texts.add(piece("Hello ", 0))
    cursor = TextCursor("r", parse_last_event_id("7.a1.3"))  # it had "Hel"
    frame = cursor.frame(texts.get("r"), 7)
    assert frame is not None
    assert b"id: 7.a1.6\r\n" in frame and b'"text":"lo "' in frame and b'"offset":3' in frame
    assert cursor.frame(texts.get("r"), 7) is None  # nothing new
    texts.add(piece("Bonjour", 0, attempt="a2"))  # the reader started over
    frame = cursor.frame(texts.get("r"), 7)
    assert frame is not None and b'"text":"Bonjour"' in frame and b'"offset":0' in frame
