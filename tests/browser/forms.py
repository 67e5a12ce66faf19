"""Checks on the forms of a page in the browser, shared by the browser tests (issue 16)."""

# The POST forms of the page that Enter in a text field would submit: two fields or more (radio
# buttons of one name count once), one of them a text-like input (what triggers HTML's implicit
# submission), and a first submit button that is not disabled (jinja2_templates/_enter_trap.html). The
# sign-in form is left out on purpose (data-enter-submits): Enter there is expected and creates
# nothing.
FORMS_SUBMITTING_ON_ENTER_JS = """
() => {
  const TEXT = new Set(["", "text", "email", "tel", "number", "date", "datetime-local", "time", "month",
                        "week", "password", "search", "url"]);
  const found = [];
  for (const form of document.querySelectorAll("form")) {
    if ((form.getAttribute("method") || "get").toLowerCase() !== "post" || form.hasAttribute("data-enter-submits")) {
      continue;
    }
    const names = new Set();
    let text = false;
    let firstSubmit = null;
    for (const el of form.elements) {
      const tag = el.tagName.toLowerCase();
      const type = (el.getAttribute("type") || "").toLowerCase();
      const isSubmit = (tag === "button" && (type === "" || type === "submit"))
        || (tag === "input" && (type === "submit" || type === "image"));
      if (isSubmit && firstSubmit === null) firstSubmit = el;
      if (isSubmit || tag === "button" || tag === "fieldset" || tag === "output" || tag === "object") continue;
      if (tag === "input" && ["hidden", "button", "reset"].includes(type)) continue;
      names.add(el.name || el.id || String(names.size));
      if (tag === "input" && TEXT.has(type)) text = true;
    }
    if (names.size >= 2 && text && !(firstSubmit && firstSubmit.disabled)) {
      found.push(form.getAttribute("data-testid") || form.getAttribute("action") || window.location.pathname);
    }
  }
  return found;
}
"""


def forms_submitting_on_enter(page) -> list[str]:
    return page.evaluate(FORMS_SUBMITTING_ON_ENTER_JS)
