"""Sending a page's forms as a browser would, twice (cases.sending: a form writes once)."""

import html
import re

FORM = re.compile(r"<form\b([^>]*)>(.*?)</form>", re.S)
ACTION = re.compile(r'\baction="([^"]*)"')
TOKEN = re.compile(r'name="sending_token" value="([0-9a-f-]{36})"')


def page_token(page: str) -> str:
    """The sending token of the page's first form that carries one."""
    return TOKEN.search(page).group(1)


def form_tokens(page: str) -> dict[str, str]:
    """The sending token of each form of a page that carries one, by the form's action ("" for a form
    sent to the page itself)."""
    tokens = {}
    for attributes, body in FORM.findall(page):
        token = TOKEN.search(body)
        if token:
            action = ACTION.search(attributes)
            tokens[html.unescape(action.group(1)) if action else ""] = token.group(1)
    return tokens


def sent_twice(client, model, url: str, data: dict, *, written: int):
    """The form posted twice with the same token: both answers lead to the same page, and `written` rows
    of `model` are added in all. Returns the two answers."""
    before = model.objects.count()
    first = client.post(url, data)
    again = client.post(url, data, HTTP_ACCEPT_LANGUAGE="en")
    assert first.status_code == again.status_code == 302, (first.status_code, again.status_code)
    assert first["Location"] == again["Location"]
    assert model.objects.count() == before + written
    return first, again
