"""People who sign in (api/people.py), on both stores: the password is kept only as an
Argon2id hash, sign-in refuses wrong passwords and disabled people, guessers are slowed per
name and per address, and sessions end when idle, on sign-out, on a password change and
when the person is disabled."""

from __future__ import annotations

import threading
import time
from typing import Literal

import pytest
from argon2 import PasswordHasher

from api import people as people_module
from api import tokens
from api.people import PeopleStore, SignInRefused, SignInThrottled
from api.services import Services
from ledger.domain.errors import InvalidInput

PASSWORD = "mật khẩu đủ dài"


@pytest.fixture
def people(services: Services) -> PeopleStore:
    return PeopleStore(services.store)


def test_a_password_is_stored_only_as_an_argon2id_hash(
    people: PeopleStore, services: Services
) -> None:
    people.add("lan", "clerk", None, PASSWORD)
    stored = services.store.one("SELECT password_hash FROM people WHERE name = 'lan'")
    assert stored is not None
    assert stored[0].startswith("$argon2id$")
    assert PASSWORD not in stored[0]
    dumped = " ".join(str(row) for row in services.store.execute("SELECT * FROM people"))
    assert PASSWORD not in dumped


def test_sign_in_gives_a_session_that_acts_as_a_token_of_the_same_role_and_scope(
    people: PeopleStore,
) -> None:
    people.add("lan", "clerk", "49", PASSWORD)
    session, secret = people.sign_in("lan", PASSWORD, "10.0.0.1")
    found = people.session(secret)
    assert found is not None and found.csrf == session.csrf
    token = found.person.as_token()
    assert (token.name, token.role, token.scope) == ("lan", "clerk", "49")
    assert token.refusal("disburse") is None
    assert token.refusal("reallocate") is not None


def test_wrong_password_and_unknown_name_are_refused_alike(people: PeopleStore) -> None:
    people.add("lan", "clerk", None, PASSWORD)
    with pytest.raises(SignInRefused) as wrong:
        people.sign_in("lan", "not the password", "10.0.0.1")
    with pytest.raises(SignInRefused) as unknown:
        people.sign_in("nobody", PASSWORD, "10.0.0.2")
    assert str(wrong.value) == str(unknown.value)


def test_failed_sign_ins_are_slowed_per_name_even_from_many_addresses(
    people: PeopleStore,
) -> None:
    people.add("lan", "clerk", None, PASSWORD)
    for attempt in range(people_module.NAME_FAILURES_MAX):
        with pytest.raises(SignInRefused):
            people.sign_in("lan", "guess", f"10.0.0.{attempt}")
    with pytest.raises(SignInThrottled) as throttled:
        people.sign_in("lan", PASSWORD, "10.0.1.1")  # even the right password waits
    assert throttled.value.retry_after > 0
    # Another name from the same addresses is not held back.
    people.add("minh", "viewer", None, PASSWORD)
    people.sign_in("minh", PASSWORD, "10.0.0.1")


def test_failed_sign_ins_are_slowed_per_address_even_over_many_names(
    people: PeopleStore,
) -> None:
    for attempt in range(people_module.ADDRESS_FAILURES_MAX):
        with pytest.raises(SignInRefused):
            people.sign_in(f"name{attempt}", "guess", "10.9.9.9")
    people.add("lan", "clerk", None, PASSWORD)
    with pytest.raises(SignInThrottled):
        people.sign_in("lan", PASSWORD, "10.9.9.9")
    people.sign_in("lan", PASSWORD, "10.9.9.8")


class CountingHasher(PasswordHasher):
    """Argon2id as the store uses it, counting the passwords it verified."""

    def __init__(self) -> None:
        super().__init__()
        self.verified = 0
        self._lock = threading.Lock()

    def verify(self, hash: str | bytes, password: str | bytes) -> Literal[True]:  # noqa: A002
        with self._lock:
            self.verified += 1
        return super().verify(hash, password)


GUESSERS = 24  # more than either limit


@pytest.mark.parametrize("vary", ["address", "name"])
def test_guessers_at_once_get_no_more_verifications_than_the_limit(
    services: Services, vary: str
) -> None:
    """Guesses sent at the same moment (one server worker or thread each) are counted before
    any password is verified, so no more than the limit are verified in a window however
    many arrive together: per name from many addresses, per address over many names."""
    hasher = CountingHasher()
    PeopleStore(services.store).add("lan", "clerk", None, PASSWORD)
    start = threading.Barrier(GUESSERS)
    answers: list[str] = []

    def guess(number: int) -> None:
        people = PeopleStore(services.store, hasher=hasher)
        name, address = ("lan", f"10.0.0.{number}") if vary == "address" else (
            f"name{number}", "10.9.9.9")  # fmt: skip
        start.wait()
        try:
            people.sign_in(name, "guess", address)
        except SignInRefused:
            answers.append("wrong")
        except SignInThrottled:
            answers.append("throttled")

    threads = [threading.Thread(target=guess, args=(n,)) for n in range(GUESSERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    limit = (
        people_module.NAME_FAILURES_MAX if vary == "address" else people_module.ADDRESS_FAILURES_MAX
    )
    assert len(answers) == GUESSERS
    assert hasher.verified == answers.count("wrong") == min(limit, GUESSERS)
    assert answers.count("throttled") == GUESSERS - min(limit, GUESSERS)


def test_a_right_password_and_a_throttled_guess_do_not_count_as_failures(
    people: PeopleStore,
) -> None:
    """The attempt is counted before the password is verified; a right password, and a
    guess refused while throttled, take their count back: only wrong passwords add up, as
    before (an office colleague retrying a locked name does not lock the office out)."""
    people.add("lan", "clerk", None, PASSWORD)
    for _ in range(people_module.NAME_FAILURES_MAX + 3):
        people.sign_in("lan", PASSWORD, "10.0.0.1")
    people.add("minh", "viewer", None, PASSWORD)
    for _ in range(people_module.NAME_FAILURES_MAX):
        with pytest.raises(SignInRefused):
            people.sign_in("minh", "guess", "10.0.0.2")
    for _ in range(people_module.ADDRESS_FAILURES_MAX):
        with pytest.raises(SignInThrottled):
            people.sign_in("minh", "guess", "10.0.0.2")
    # Five failures from 10.0.0.2, not twenty-five: another name from it still signs in.
    people.sign_in("lan", PASSWORD, "10.0.0.2")


def test_a_bad_token_does_not_end_a_sign_in_window(
    people: PeopleStore, services: Services
) -> None:
    """Bearer-token failures share the table but have a shorter window; dropping their
    ended windows must leave the sign-in windows (15 minutes) alone, or a guesser could
    reset a name's count by sending a bad token five minutes in."""
    people.add("lan", "clerk", None, PASSWORD)
    for _ in range(people_module.NAME_FAILURES_MAX):
        with pytest.raises(SignInRefused):
            people.sign_in("lan", "guess", "10.0.0.1")
    later = time.time() + tokens.FAILURE_WINDOW_S + 60  # within the sign-in window
    services.tokens().record_failure("10.0.0.1", later, tokens.FAILURE_WINDOW_S)
    with pytest.raises(SignInThrottled):
        people.sign_in("lan", "guess", "10.0.0.2")


def test_a_disabled_person_is_signed_out_and_cannot_sign_in(people: PeopleStore) -> None:
    people.add("lan", "clerk", None, PASSWORD)
    _, secret = people.sign_in("lan", PASSWORD, "10.0.0.1")
    people.disable("lan")
    assert people.session(secret) is None
    with pytest.raises(SignInRefused, match="wrong"):
        people.sign_in("lan", PASSWORD, "10.0.0.1")


def test_a_new_password_ends_every_session(people: PeopleStore) -> None:
    people.add("lan", "clerk", None, PASSWORD)
    _, secret = people.sign_in("lan", PASSWORD, "10.0.0.1")
    people.set_password("lan", "một mật khẩu mới")
    assert people.session(secret) is None
    with pytest.raises(SignInRefused):
        people.sign_in("lan", PASSWORD, "10.0.0.1")
    people.sign_in("lan", "một mật khẩu mới", "10.0.0.1")


def test_an_idle_session_ends_and_sign_out_ends_one(people: PeopleStore) -> None:
    people.add("lan", "clerk", None, PASSWORD)
    session, secret = people.sign_in("lan", PASSWORD, "10.0.0.1")
    time.sleep(0.05)
    assert people.session(secret, idle_timeout_s=0.01) is None
    assert people.session(secret) is None  # ended, not only refused once
    session, secret = people.sign_in("lan", PASSWORD, "10.0.0.1")
    people.end(session.key)
    assert people.session(secret) is None


def test_bad_input_is_refused_and_nothing_is_written(
    people: PeopleStore, services: Services
) -> None:
    with pytest.raises(InvalidInput, match="at least 10"):
        people.add("lan", "clerk", None, "short")
    with pytest.raises(InvalidInput, match="must be one of"):
        people.add("lan", "boss", None, PASSWORD)
    assert people.list() == []
    services.tokens().create("script", "viewer", None)
    with pytest.raises(InvalidInput, match="never reused"):
        people.add("script", "viewer", None, PASSWORD)
    people.add("lan", "clerk", None, PASSWORD)
    with pytest.raises(InvalidInput, match="never reused"):
        services.tokens().create("lan", "viewer", None)
    assert [person.name for person in people.list()] == ["lan"]
