"""Issue 11 part 4: at least 12 characters, not a common password, not like the person's names."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError

from agencies.demo import DEMO_PASSWORD
from tests.conftest import PASSWORD


@pytest.mark.parametrize("password", ["short-pass1", "password1234", "1234567890123", "nguyen.van.an"])
def test_weak_passwords_are_refused(db, password):
    user = get_user_model()(username="nguyen.van.an", first_name="Nguyễn Văn An")
    with pytest.raises(ValidationError):
        validate_password(password, user=user)


@pytest.mark.parametrize("password", [DEMO_PASSWORD, PASSWORD, "12-ký-tự-đủ-dài"])
def test_the_demo_and_test_passwords_pass(db, password):
    assert DEMO_PASSWORD == "hopluc-demo-2026"
    user = get_user_model()(username="hn.police.responder", first_name="Trần Thị Bình")
    validate_password(password, user=user)


def test_the_change_form_applies_them(client, world):
    client.force_login(world.lead_responder)
    response = client.post("/password/", {"old_password": PASSWORD, "new_password1": "short-pass1",
                                          "new_password2": "short-pass1"})
    assert response.status_code == 200
    codes = {error.code for errors in response.context["form"].errors.as_data().values() for error in errors}
    assert "password_too_short" in codes
