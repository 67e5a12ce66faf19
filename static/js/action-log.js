// Choosing another type preselects its usual category, as the server does for the type tapped first.
(function () {
  var source = document.getElementById("default-categories");
  var category = document.getElementById("id_category");
  if (!source || !category) {
    return;
  }
  var defaults = JSON.parse(source.textContent);
  document.querySelectorAll('input[name="type"]').forEach(function (input) {
    input.addEventListener("change", function () { category.value = defaults[input.value] || ""; });
  });
})();
