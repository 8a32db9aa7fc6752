"""The attachment store: random names on disk, safe types when served, lookup on both databases."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from handoff.config import DeskSettings
from handoff.store import conversations as convs
from handoff.store.attachments import (
    OCTET_STREAM,
    AttachmentMissing,
    AttachmentStore,
    AttachmentTooBig,
    DatabaseAttachmentStore,
    display_name,
    find_attachment,
    is_token,
    served_type,
    size_text,
    too_big_record,
)
from handoff.store.models import Author, Channel

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF" + b"x" * 200
PNG = b"\x89PNG\r\n\x1a\n" + b"x" * 50
WEBP = b"RIFF\x10\x00\x00\x00WEBPVP8 " + b"x" * 50
PDF = b"%PDF-1.7\n" + b"x" * 50
HTML = b"<html><script>alert(document.cookie)</script></html>"
SVG = b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>'


def test_a_file_is_stored_under_a_random_token_never_the_citizens_name(tmp_path: Path) -> None:
    store = AttachmentStore(tmp_path / "files")
    entry = store.save(PDF, kind="document", mime="application/pdf", name="../../etc/brief deurwaarder.pdf")
    assert entry == {
        "id": entry["id"],
        "kind": "document",
        "mime": "application/pdf",
        "name": "brief deurwaarder.pdf",
        "size": len(PDF),
    }
    assert is_token(entry["id"])
    assert [p.name for p in (tmp_path / "files").iterdir()] == [entry["id"]]
    assert stat.S_IMODE((tmp_path / "files" / entry["id"]).stat().st_mode) == 0o600
    assert store.read(entry["id"]) == PDF
    other = store.save(PDF, kind="document", mime="application/pdf", name="brief deurwaarder.pdf")
    assert other["id"] != entry["id"]


def test_too_big_is_refused_and_nothing_is_written(tmp_path: Path) -> None:
    store = AttachmentStore(tmp_path, max_bytes=100)
    with pytest.raises(AttachmentTooBig):
        store.save(b"x" * 101, kind="document", mime=None, name="groot.bin")
    assert list(tmp_path.iterdir()) == []
    assert store.save(b"x" * 100, kind="document", mime=None, name=None)["mime"] == OCTET_STREAM


def test_size_limits_read_naturally() -> None:
    assert size_text(10 * 1024 * 1024) == "10 MB" and size_text(512 * 1024) == "512 kB" and size_text(10) == "1 kB"


def test_a_refused_file_is_marked_for_the_worker() -> None:
    record = too_big_record("document", "application/pdf", "C:\\Users\\sam\\scan.pdf", 15_000_000, 10 * 1024 * 1024)
    assert "id" not in record
    assert record["too_big"] is True and record["name"] == "scan.pdf" and record["size"] == 15_000_000
    assert record["note"].startswith("te groot (meer dan 10 MB)")


@pytest.mark.parametrize(
    "value", ["../../etc/passwd", "..", "a" * 31, "a" * 33, "a" * 32 + "\n", "a" * 16 + "/" + "a" * 15, "a" * 31 + "."]
)
def test_only_the_stores_own_tokens_are_paths(tmp_path: Path, value: str) -> None:
    store = AttachmentStore(tmp_path)
    assert not is_token(value)
    with pytest.raises(AttachmentMissing):
        store.read(value)


def test_an_unknown_token_is_missing(tmp_path: Path) -> None:
    with pytest.raises(AttachmentMissing):
        AttachmentStore(tmp_path).read("A" * 32)


def test_display_names_are_plain_text() -> None:
    assert display_name("brief\r\nX-Evil: 1.pdf") == "briefX-Evil: 1.pdf"
    assert display_name("/") is None and display_name(None) is None
    assert len(display_name("a" * 500) or "") == 128


@pytest.mark.parametrize(
    ("mime", "data", "expected"),
    [
        ("image/jpeg", JPEG, "image/jpeg"),
        ("IMAGE/PNG; charset=x", PNG, "image/png"),
        ("image/webp", WEBP, "image/webp"),
        ("application/pdf", PDF, "application/pdf"),
        ("text/html", HTML, OCTET_STREAM),
        ("image/svg+xml", SVG, OCTET_STREAM),
        ("image/png", HTML, OCTET_STREAM),  # a lie about the type does not get it rendered
        ("image/webp", b"RIFF\x10\x00\x00\x00AVI LIST", OCTET_STREAM),
        ("application/pdf", JPEG, OCTET_STREAM),
        (None, JPEG, OCTET_STREAM),
    ],
)
def test_only_allowlisted_types_with_matching_bytes_are_served_as_themselves(
    mime: str | None, data: bytes, expected: str
) -> None:
    assert served_type(mime, data[:16]) == expected


def _message_with(session: Session, who: str, entries: list[dict]) -> int:
    citizen = convs.citizen_for(session, Channel.telegram, who)
    conversation = convs.active_conversation(session, citizen)
    message, _ = convs.record_message(session, conversation, Author.citizen, "", attachments=entries)
    return message.id


def test_find_attachment_on_both_databases(sessions: sessionmaker[Session]) -> None:
    near = "a" * 31 + "b"  # differs from the wanted token only where it has '_' (a LIKE wildcard)
    wanted = "a" * 31 + "_"
    with sessions.begin() as session:
        _message_with(session, "1", [{"id": near, "kind": "photo"}])
        convs.record_message(
            session,
            convs.active_conversation(session, convs.citizen_for(session, Channel.telegram, "3")),
            Author.citizen,
            wanted,  # the token as text is not an attachment
        )
        message_id = _message_with(
            session, "2", [{"kind": "document", "too_big": True}, {"id": wanted, "kind": "document", "name": "x.pdf"}]
        )
    with sessions() as session:
        found = find_attachment(session, wanted)
        assert found is not None
        message, entry = found
        assert message.id == message_id and entry["name"] == "x.pdf"
        assert find_attachment(session, near) is not None
        assert find_attachment(session, "c" * 32) is None
        assert find_attachment(session, "../" + "a" * 29) is None


def test_in_the_database_every_process_reads_the_same_file(sessions: sessionmaker[Session], tmp_path: Path) -> None:
    """ATTACHMENTS_STORE=database: a second store on the same database (another desk
    process) reads, and deletes, what the first one saved; nothing lands on disk."""
    first = DatabaseAttachmentStore(tmp_path / "a", max_bytes=1000, sessions=sessions)
    second = DatabaseAttachmentStore(tmp_path / "b", max_bytes=1000, sessions=sessions)
    entry = first.save(PDF, kind="document", mime="application/pdf", name="brief.pdf")
    assert is_token(entry["id"]) and entry["size"] == len(PDF)
    assert second.read(entry["id"]) == PDF
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()
    with pytest.raises(AttachmentTooBig):
        first.save(b"x" * 1001, kind="document", mime=None, name=None)
    with pytest.raises(AttachmentMissing):
        second.read("../../etc/passwd")
    second.delete(entry["id"])
    with pytest.raises(AttachmentMissing):
        first.read(entry["id"])


def test_the_settings_choose_the_store(sessions: sessionmaker[Session], tmp_path: Path) -> None:
    folder = DeskSettings(attachments_dir=str(tmp_path))
    assert type(AttachmentStore.from_settings(folder, sessions)) is AttachmentStore
    database = DeskSettings(attachments_dir=str(tmp_path), attachments_store="database")
    assert isinstance(AttachmentStore.from_settings(database, sessions), DatabaseAttachmentStore)
