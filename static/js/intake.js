// The guided intake: reveal fields by what was answered, focus the error summary, keep the
// commune list in step with the province. Everything works without this script too: then every
// field is shown and the server checks the answers.
(function () {
  var CHILD_AGE = 16;
  var summary = document.querySelector(".error-summary");

  function focusField(id) {
    var target = id && document.getElementById(id);
    if (!target) {
      return false;
    }
    var details = target.closest("details");
    if (details) {
      details.open = true;
    }
    target.focus();
    target.scrollIntoView({ block: "center" });
    return true;
  }

  if (summary) {
    summary.focus();
    summary.querySelectorAll("a[href^='#']").forEach(function (link) {
      link.addEventListener("click", function (event) {
        if (focusField(link.getAttribute("href").slice(1))) {
          event.preventDefault();
        }
      });
    });
  } else if (window.location.hash) {
    // Arriving from a link of the summary on "check your answers".
    focusField(window.location.hash.slice(1));
  }

  var form = document.querySelector(".intake-form");
  if (!form) {
    return;
  }

  function checked(name) {
    var input = form.querySelector('input[name="' + name + '"]:checked');
    return input ? input.value : "";
  }

  function isChild() {
    var age = form.querySelector('[name="age"]');
    var year = form.querySelector('[name="birth_year"]');
    if (age && age.value.trim() !== "") {
      return parseInt(age.value, 10) < CHILD_AGE;
    }
    if (year && year.value.trim() !== "") {
      // The youngest age the survivor can have, as the server counts it.
      return new Date().getFullYear() - parseInt(year.value, 10) - 1 < CHILD_AGE;
    }
    return false;
  }

  var rules = {
    child: isChild,
    share: function () { return checked("share") === "yes"; },
    guardian: function () { return checked("consent_given_by").indexOf("guardian") !== -1; }
  };

  function update() {
    form.querySelectorAll("[data-reveal]").forEach(function (block) {
      var rule = rules[block.getAttribute("data-reveal")];
      // A block holding an error stays in sight.
      block.hidden = rule && !rule() && !block.querySelector(".has-error");
    });
  }

  form.addEventListener("input", update);
  form.addEventListener("change", update);
  update();

  var province = form.querySelector('[name="province"]');
  var list = document.getElementById("commune-list");
  if (province && list && form.dataset.communesUrl) {
    province.addEventListener("change", function () {
      fetch(form.dataset.communesUrl + "?province=" + encodeURIComponent(province.value), {
        credentials: "same-origin", headers: { "Accept": "application/json" }
      }).then(function (response) {
        return response.ok ? response.json() : { communes: [] };
      }).then(function (data) {
        list.replaceChildren.apply(list, data.communes.map(function (name) {
          var option = document.createElement("option");
          option.value = name;
          return option;
        }));
      }).catch(function () {});
    });
  }
})();
