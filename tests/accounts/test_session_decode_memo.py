"""accounts.session_store remembers decoded session data per process: the same signed text decodes to the
same data, each read gets data of its own, and text that does not verify under the keys in force now (another
SECRET_KEY, a changed byte) is refused as Django refuses it, whether or not it was read before."""

from django.test import override_settings

from accounts.session_store import _DECODED, SessionStore

DATA = {"_auth_user_id": "7", "nav_roles": ["responder"], "signed_in_at": 1796531265, "may_break_glass": False}


def test_the_same_text_decodes_to_equal_data_of_its_own():
    store = SessionStore()
    text = store.encode(DATA)
    first = store.decode(text)
    assert first == DATA
    first["nav_roles"].append("supervisor")
    first["_auth_user_id"] = "8"
    second = SessionStore().decode(text)
    assert second == DATA and second is not first
    assert any(key[0] == text for key in _DECODED)


def test_text_signed_with_another_key_is_refused_even_after_it_was_read():
    with override_settings(SECRET_KEY="another-key-" + "x" * 40):
        text = SessionStore().encode(DATA)
        assert SessionStore().decode(text) == DATA
    assert SessionStore().decode(text) == {}
    with override_settings(SECRET_KEY="another-key-" + "x" * 40):
        assert SessionStore().decode(text) == DATA


def test_a_fallback_key_still_verifies_and_a_changed_byte_never_does():
    with override_settings(SECRET_KEY="old-key-" + "y" * 40):
        text = SessionStore().encode(DATA)
    with override_settings(SECRET_KEY="new-key-" + "z" * 40, SECRET_KEY_FALLBACKS=["old-key-" + "y" * 40]):
        assert SessionStore().decode(text) == DATA
    with override_settings(SECRET_KEY="new-key-" + "z" * 40):
        assert SessionStore().decode(text) == {}
    store = SessionStore()
    good = store.encode(DATA)
    assert store.decode(good) == DATA
    tampered = good[:-3] + ("A" if good[-3] != "A" else "B") + good[-2:]
    assert store.decode(tampered) == {}
