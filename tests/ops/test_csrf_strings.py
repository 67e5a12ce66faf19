"""config.csrf: the CSRF masks and secrets, drawn with one read of the system's randomness."""

import collections
import re

import pytest
from django.middleware import csrf as django_csrf
from django.test import Client

from config import csrf
from tests.conftest import PASSWORD


def test_django_draws_its_masks_and_secrets_with_one_read(monkeypatch):
    reads = []
    real = csrf.secrets.token_bytes
    monkeypatch.setattr(csrf.secrets, "token_bytes", lambda n: reads.append(n) or real(n))
    secret = django_csrf._get_new_csrf_string()
    token = django_csrf._mask_cipher_secret(secret)
    assert len(reads) == 2  # one for the secret, one for the mask
    assert re.fullmatch(r"[A-Za-z0-9]{32}", secret) and re.fullmatch(r"[A-Za-z0-9]{64}", token)
    assert django_csrf._unmask_cipher_token(token) == secret


def test_characters_are_drawn_evenly():
    drawn = collections.Counter("".join(csrf.csrf_string() for _ in range(3000)))
    assert set(drawn) == set(django_csrf.CSRF_ALLOWED_CHARS)
    expected = 3000 * 32 / 62
    # Far looser than chance allows (the standard deviation is about 39): a skewed draw (bytes taken
    # modulo 62 without skipping 248-255 over-draws eight characters by 25%) fails.
    assert all(abs(count - expected) < 0.15 * expected for count in drawn.values())


def test_skipped_bytes_never_pick_a_character(monkeypatch):
    # 248-255 would be characters 0-7 if taken modulo 62: they are skipped, and the next read is used.
    reads = iter([bytes([255, 248] * 32), bytes(range(64))])
    monkeypatch.setattr(csrf.secrets, "token_bytes", lambda n: next(reads))
    assert csrf.csrf_string() == "".join(django_csrf.CSRF_ALLOWED_CHARS[i % 62] for i in range(32))


@pytest.mark.django_db
def test_a_form_posted_with_the_page_token_is_accepted(world):
    client = Client(enforce_csrf_checks=True)
    page = client.get("/login/").content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    response = client.post("/login/", {"csrfmiddlewaretoken": token, "username": world.lead_responder.username,
                                       "password": PASSWORD})
    assert response.status_code == 302
    refused = Client(enforce_csrf_checks=True)
    refused.get("/login/")
    forged = {"csrfmiddlewaretoken": "x" * 64, "username": "a", "password": "b"}
    assert refused.post("/login/", forged).status_code == 403
