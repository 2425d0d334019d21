"""File names from inside the encryption are chosen by whoever sealed the item: hostile
until made harmless. What ``intake cases pull`` writes stays one file in the output
folder; what ``intake submit`` sends is a name item content v1 accepts."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from app.cli.cases import _place, safe_name
from app.cli.output import CliError
from app.cli.submit import sendable_name
from app.crypto import ItemKind, SigningKey, content_header


@pytest.mark.parametrize(
    ("hostile", "expected"),
    [
        ("../../.bashrc", "_.._.bashrc"),
        ("..", "fallback"),
        (".hidden", "hidden"),
        ("/etc/passwd", "_etc_passwd"),
        ("a\\b.txt", "a_b.txt"),
        ("report\u202egpj.exe", "report_gpj.exe"),  # a right-to-left override
        ("line\nbreak.txt", "line_break.txt"),
        ("nul\x00byte", "nul_byte"),
        ("   ", "fallback"),
        ("", "fallback"),
    ],
)
def test_a_hostile_name_becomes_one_harmless_component(hostile: str, expected: str) -> None:
    assert safe_name(hostile, "fallback") == expected


def test_a_long_name_is_cut_to_200_bytes_keeping_its_extension() -> None:
    cut = safe_name("é" * 300 + ".jpeg", "fallback")

    assert cut.endswith(".jpeg")
    assert len(cut.encode()) <= 200
    assert cut.startswith("é")


def test_a_name_never_replaces_a_file_that_is_there(tmp_path: Path) -> None:
    (tmp_path / "photo.jpg").write_bytes(b"the investigator's own")
    temporary = tmp_path / ".part"
    temporary.write_bytes(b"decrypted")

    placed = _place(tmp_path, temporary, "photo.jpg")

    assert placed.name == "photo (2).jpg"
    assert (tmp_path / "photo.jpg").read_bytes() == b"the investigator's own"
    assert placed.read_bytes() == b"decrypted"
    assert not temporary.exists()


def test_a_name_that_leaves_the_folder_is_refused(tmp_path: Path) -> None:
    temporary = tmp_path / ".part"
    temporary.write_bytes(b"decrypted")

    with pytest.raises(CliError):
        _place(tmp_path, temporary, "../escaped")

    assert not (tmp_path.parent / "escaped").exists()


@pytest.mark.parametrize(
    "name", ["ok.txt", "tab\there.txt", "rtl\u202etxt.exe", "x" * 300 + ".pdf", "..", "a/b"]
)
def test_what_submit_sends_is_a_name_item_content_accepts(name: str) -> None:
    sent = sendable_name(name)

    header = content_header(
        case_id=uuid.uuid4(),
        item_id=uuid.uuid4(),
        kind=ItemKind.FILE,
        name=sent,
        size=0,
        sha256="0" * 64,
        signer=SigningKey.generate(),
    )

    assert header.startswith(b"WITC")
    assert len(sent) <= 255
