// Small behaviours of our pages, here rather than in inline handlers, which the pages'
// Content-Security-Policy forbids (script-src 'self').
(function () {
  // <select data-autosubmit> and checkboxes with it: a filter applies as soon as it changes.
  document.addEventListener("change", function (event) {
    var el = event.target;
    if (el instanceof Element && el.hasAttribute("data-autosubmit") && el.form) el.form.submit();
  });
  // <input data-file-pick>: our label beside the hidden browser button says how many photos are chosen,
  // in the page's language (data-file-chosen holds the sentence with {n}).
  document.addEventListener("change", function (event) {
    var el = event.target;
    if (!(el instanceof HTMLInputElement) || !el.hasAttribute("data-file-pick")) return;
    var shown = el.parentElement && el.parentElement.querySelector("[data-file-chosen]");
    if (shown && el.files && el.files.length) {
      shown.textContent = shown.getAttribute("data-file-chosen").replace("{n}", String(el.files.length));
    }
  });
  // <form data-reset-after-send>: emptied once htmx has sent it successfully (the chat input).
  document.addEventListener("htmx:afterRequest", function (event) {
    var form = event.detail && event.detail.elt;
    if (event.detail.successful && form instanceof HTMLFormElement && form.hasAttribute("data-reset-after-send")) {
      form.reset();
    }
  });
})();
