"""Invitation and session tokens as people handle them."""

from app.staff.service import new_token


def test_a_token_never_reads_as_a_command_line_option() -> None:
    """`intake enrol TOKEN` takes the token as an argument: one starting with '-' was
    refused as an unknown option (about one token in 64 before this rule)."""
    tokens = {new_token() for _ in range(2000)}
    assert len(tokens) == 2000
    assert not [token for token in tokens if token.startswith("-")]
    assert all(len(token) == 43 for token in tokens)
