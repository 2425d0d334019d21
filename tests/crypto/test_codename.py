"""Submitter codenames: generation, normalisation, refusal and derivation.

Each derivation runs Argon2id with the production cost (64 MiB, about 0.3 s), so the
tests share a few cached derivations instead of deriving in every test.
"""

from __future__ import annotations

import copy
import functools
import pickle
import uuid
from collections.abc import Callable, Iterator

import pytest

from app.crypto import (
    CodenameError,
    CodenameSecrets,
    CryptoError,
    Kem,
    _rng,
    check_login_verifier,
    derive_codename_secrets,
    login_verifier,
    new_codename,
    normalise_codename,
)
from app.crypto.codename import _parse_wordlist, _words

DEPLOYMENT = uuid.UUID(int=42)
OTHER_DEPLOYMENT = uuid.UUID(int=43)
SEVEN = "abacus abdomen abdominal abide abiding ability ablaze"


@functools.cache
def _derived(codename: str = SEVEN, deployment_id: uuid.UUID = DEPLOYMENT) -> CodenameSecrets:
    return derive_codename_secrets(codename, deployment_id=deployment_id)


def test_word_list_is_the_eff_list_without_its_hyphenated_words() -> None:
    words = _words()
    assert (len(words), len(set(words)), "t-shirt" in words, words[0]) == (
        7772,
        7772,
        False,
        "abacus",
    )


def test_new_codename_has_seven_list_words_by_default() -> None:
    words = new_codename().split(" ")
    assert (len(words), set(words) <= set(_words())) == (7, True)


def test_new_codename_can_have_twelve_words() -> None:
    assert len(new_codename(12).split(" ")) == 12


@pytest.mark.parametrize("count", [6, 13])
def test_new_codename_refuses_other_word_counts(count: int) -> None:
    with pytest.raises(CodenameError, match="7 to 12 words"):
        new_codename(count)


def test_new_codename_rejects_draws_that_would_bias_the_choice(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # 0xFFFF is above the largest multiple of 7772 below 2**16 and must be redrawn.
    draws: Iterator[bytes] = iter([b"\xff\xff", b"\x00\x05"] * 7)
    monkeypatch.setattr(_rng, "_source", lambda n: next(draws))
    assert new_codename() == " ".join([_words()[5]] * 7)


def test_new_codename_keeps_the_largest_unbiased_draw(monkeypatch: pytest.MonkeyPatch) -> None:
    largest = (65536 // 7772 * 7772 - 1).to_bytes(2, "big")  # 62175 -> index 7771
    monkeypatch.setattr(_rng, "_source", lambda n: largest)
    assert new_codename() == " ".join([_words()[-1]] * 7)


def test_normalisation_folds_case_and_whitespace() -> None:
    assert (
        normalise_codename("  Abacus\tABDOMEN  abdominal\n abide abiding ability ablaze ") == SEVEN
    )


def test_normalisation_reads_hyphens_and_underscores_as_separators() -> None:
    assert normalise_codename("abacus-abdomen_abdominal abide--abiding ability ablaze") == SEVEN


def test_normalisation_folds_compatibility_characters() -> None:
    assert (
        normalise_codename(
            "\uff21\uff22\uff21\uff23\uff35\uff33 abdomen abdominal abide abiding ability ablaze"
        )
        == SEVEN
    )


def test_non_list_words_are_counted_but_not_repeated() -> None:
    with pytest.raises(CodenameError) as caught:
        normalise_codename("abacus zzzsecretzzz abdominal abide qqqprivateqqq ability ablaze")
    message = str(caught.value)
    assert (message, "secret" in message) == ("2 words are not in the codename word list", False)


def test_a_single_non_list_word_is_reported_in_the_singular() -> None:
    with pytest.raises(CodenameError, match=r"^1 word is not"):
        normalise_codename("abacus abdomen abdominal abide abiding ability ablazer")


def test_hyphenated_list_words_are_not_accepted() -> None:
    with pytest.raises(CodenameError, match="1 word is not"):
        normalise_codename("t-shirt abdomen abdominal abide abiding ability ablaze")


@pytest.mark.parametrize("text", ["abacus " * 6, "abacus " * 13, ""])
def test_wrong_word_counts_are_refused(text: str) -> None:
    with pytest.raises(CodenameError, match="7 to 12 words"):
        normalise_codename(text)


def test_codename_yields_a_32_byte_login_secret_and_an_xwing_reply_key() -> None:
    derived = _derived()
    assert (len(derived.login_secret), derived.reply_key.kem) == (32, Kem.XWING)


def test_login_secret_and_reply_key_seed_are_distinct() -> None:
    derived = _derived()
    assert derived.login_secret != derived.reply_key._secret_bytes()


def test_secrets_depend_on_the_deployment() -> None:
    one, other = _derived(), _derived(SEVEN, OTHER_DEPLOYMENT)
    assert (
        one.login_secret != other.login_secret,
        one.reply_key.public_key != other.reply_key.public_key,
    ) == (True, True)


def test_codename_typed_differently_derives_the_same_secrets() -> None:
    typed = _derived("ABACUS-abdomen abdominal abide abiding ability ablaze")
    assert (typed.login_secret, typed.reply_key.public_key) == (
        _derived().login_secret,
        _derived().reply_key.public_key,
    )


def test_derivation_refuses_an_invalid_codename() -> None:
    with pytest.raises(CodenameError):
        derive_codename_secrets("not a codename", deployment_id=DEPLOYMENT)


def test_verifier_accepts_its_login_secret() -> None:
    derived = _derived()
    assert check_login_verifier(derived.login_secret, derived.login_verifier) is True


def test_verifier_is_the_sha256_of_the_login_secret() -> None:
    derived = _derived()
    assert derived.login_verifier == login_verifier(derived.login_secret)


def test_verifier_refuses_another_login_secret() -> None:
    assert check_login_verifier(bytes(32), _derived().login_verifier) is False


def test_codename_secrets_repr_shows_only_the_public_key_ids() -> None:
    derived = _derived()
    assert repr(derived) == (
        f"CodenameSecrets(reply_key_id={derived.reply_key.id!r}, "
        f"signing_key_id={derived.signing_key.id!r})"
    )


def test_codename_secrets_repr_reveals_no_secret() -> None:
    derived = _derived()
    text = repr(derived)
    secrets = (
        derived.login_secret,
        derived.reply_key._secret_bytes(),
        derived.signing_key._seed_bytes(),
    )
    assert [secret.hex() in text for secret in secrets] == [False, False, False]


def test_signing_key_is_an_ed25519_key_distinct_from_the_other_outputs() -> None:
    derived = _derived()
    seed = derived.signing_key._seed_bytes()
    assert (len(seed), seed in {derived.login_secret, derived.reply_key._secret_bytes()}) == (
        32,
        False,
    )


def test_signing_key_signs_and_depends_on_the_deployment() -> None:
    derived, other = _derived(), _derived(SEVEN, OTHER_DEPLOYMENT)
    signature = derived.signing_key.sign(b"case", context="case-key v1")
    derived.signing_key.verify_key.verify(signature, b"case", context="case-key v1")
    assert derived.signing_key.verify_key != other.signing_key.verify_key


@pytest.mark.parametrize("duplicate", [copy.copy, copy.deepcopy, pickle.dumps])
def test_codename_secrets_cannot_be_pickled_or_copied(
    duplicate: Callable[[object], object],
) -> None:
    with pytest.raises(TypeError, match="holds secrets"):
        duplicate(_derived())


def test_verifier_refuses_a_secret_of_the_wrong_length() -> None:
    assert check_login_verifier(b"short", login_verifier(bytes(32))) is False


def test_verifier_of_a_secret_of_the_wrong_length_is_refused() -> None:
    with pytest.raises(CodenameError, match="32 bytes"):
        login_verifier(b"short")


def test_an_altered_word_list_is_refused() -> None:
    with pytest.raises(CryptoError, match="not the EFF large word list"):
        _parse_wordlist(b"abacus\n")
