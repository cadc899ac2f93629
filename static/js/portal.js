/* Small progressive enhancements. No inline handlers anywhere: everything is wired here. */
(function () {
  "use strict";

  // Move focus to an error summary when one appears, so keyboard and screen-reader users hear it.
  function focusErrors(root) {
    var summary = (root || document).querySelector(".error-summary");
    if (summary) { summary.focus(); }
  }
  document.addEventListener("DOMContentLoaded", function () { focusErrors(document); },
                            { once: true });

  // The main navigation folds behind a Menu button on narrow screens (CSS decides when; without
  // JavaScript the links simply wrap).
  document.addEventListener("DOMContentLoaded", function () {
    var toggle = document.querySelector(".nav-toggle");
    if (!toggle) { return; }
    var nav = toggle.closest(".main-nav");
    document.documentElement.classList.add("js-nav");
    toggle.hidden = false;
    toggle.addEventListener("click", function () {
      var open = toggle.getAttribute("aria-expanded") !== "true";
      toggle.setAttribute("aria-expanded", open ? "true" : "false");
      nav.classList.toggle("nav-open", open);
      if (open) { var first = nav.querySelector(".nav a"); if (first) { first.focus(); } }
    });
    document.addEventListener("keydown", function (evt) {
      if (evt.key === "Escape" && nav.classList.contains("nav-open")) {
        toggle.setAttribute("aria-expanded", "false");
        nav.classList.remove("nav-open");
        toggle.focus();
      }
    });
  }, { once: true });  // once: htmx-loader.js repeats DOMContentLoaded for a late htmx

  // A button marked data-confirm asks before it submits.
  document.addEventListener("click", function (evt) {
    var el = evt.target.closest("[data-confirm]");
    if (el && !window.confirm(el.getAttribute("data-confirm"))) {
      evt.preventDefault();
      evt.stopPropagation();
    }
  }, true);

  // A button marked data-print prints the page (invoices, settlement statements).
  document.addEventListener("click", function (evt) {
    if (evt.target.closest("[data-print]")) { window.print(); }
  });

  // A filter form that updates as it changes (hx-trigger "change") works before htmx has
  // arrived, or if it never does: the change sends it as a plain GET (its Filter button is in
  // <noscript>, so without this the change did nothing until htmx started).
  document.addEventListener("change", function (evt) {
    var form = evt.target.form;
    if (!form || (form.getAttribute("method") || "get").toLowerCase() !== "get") { return; }
    if (!/(^|,)\s*change\b/.test(form.getAttribute("hx-trigger") || "")) { return; }
    if (window.htmx && document.body && document.body["htmx-internal-data"]) { return; }
    if (form.requestSubmit) { form.requestSubmit(); } else { form.submit(); }
  });

  // Stop a double click submitting a plain form twice.
  document.addEventListener("submit", function (evt) {
    var form = evt.target;
    if (form.dataset.submitting === "1") { evt.preventDefault(); return; }
    form.dataset.submitting = "1";
    window.setTimeout(function () { form.dataset.submitting = ""; }, 4000);
  });

  // A form sent after the session ended was kept (portal/drafts.py): put its answers back in
  // the same form on this page. Nothing is sent: the person checks and sends it again.
  function restoreForm() {
    var data = document.getElementById("restored-form");
    if (!data) { return; }
    var kept;
    try { kept = JSON.parse(data.textContent); } catch (e) { return; }
    var form = Array.prototype.find.call(document.forms, function (f) {
      var target = f.getAttribute("hx-post") || f.getAttribute("action") || "";
      try { return new URL(target, window.location.href).pathname === kept.action; }
      catch (e) { return false; }
    });
    if (!form) { return; }
    var values = {};
    kept.fields.forEach(function (pair) {
      (values[pair[0]] = values[pair[0]] || []).push(pair[1]);
    });
    var seen = {};
    Array.prototype.forEach.call(form.elements, function (el) {
      var skip = ["file", "password", "submit", "button", "reset"];
      if (!el.name || el.name === "csrf_token" || skip.indexOf(el.type) !== -1) { return; }
      var sent = values[el.name];
      if (el.type === "checkbox" || el.type === "radio") {
        el.checked = !!sent && sent.indexOf(el.value) !== -1;
      } else if (el.tagName === "SELECT" && el.multiple) {
        Array.prototype.forEach.call(el.options, function (o) {
          o.selected = !!sent && sent.indexOf(o.value) !== -1;
        });
      } else if (sent) {
        var i = seen[el.name] || 0;
        if (i < sent.length) { el.value = sent[i]; }
        seen[el.name] = i + 1;
      }
    });
    var answers = document.querySelector(".restored-answers");
    if (answers) { answers.hidden = true; }
    var first = form.querySelector("textarea, input:not([type=hidden]), select");
    if (first) { first.focus(); }
  }
  document.addEventListener("DOMContentLoaded", restoreForm, { once: true });

  // htmx: an error status that is not swapped is told to the user in the live region.
  document.addEventListener("htmx:responseError", function (evt) {
    var region = document.getElementById("htmx-status");
    if (!region) { return; }
    var code = evt.detail.xhr.status;
    region.textContent = code === 429 ? "Too many attempts. Wait a minute and try again."
      : code === 403 || code === 404 ? "You cannot do that here. Reload the page."
      : "Something went wrong and nothing was saved. Try again.";
  });
  // Action plan: click anywhere on an editable row to edit it (its Edit link does the same for
  // the keyboard); Escape in a row form cancels the edit. Without htmx the links still work.
  document.addEventListener("click", function (evt) {
    var row = evt.target.closest("tr[data-edit-url]");
    if (!row || !window.htmx || evt.target.closest("a, button, input, select, textarea, form")) {
      return;
    }
    window.htmx.ajax("GET", row.getAttribute("data-edit-url"),
      { target: "#" + row.id, swap: "outerHTML" });
  });
  document.addEventListener("keydown", function (evt) {
    if (evt.key !== "Escape" || !window.htmx) { return; }
    var form = evt.target.closest && evt.target.closest("form[data-cancel-url]");
    if (!form) { return; }
    evt.preventDefault();
    window.htmx.ajax("GET", form.getAttribute("data-cancel-url"),
      { target: form.getAttribute("data-cancel-target"), swap: "outerHTML" });
  });
  // Focus after an htmx swap, one convention for every page (issue 18, item 4): an error
  // summary or the first invalid field if the answer has one; otherwise the row or section that
  // was swapped in (a moved row's same button; a removed row hands focus to its table). A form's
  // data-done text is announced politely on success. Polling never moves focus.
  var pendingFocus = null;
  function focusOn(el) {
    if (!el) { return; }
    if (!el.matches("a[href], button, input, select, textarea, [tabindex]")) {
      el.setAttribute("tabindex", "-1");
    }
    el.focus();
  }
  document.addEventListener("htmx:beforeSwap", function (evt) {
    var target = evt.detail.target;
    var issuer = evt.detail.requestConfig && evt.detail.requestConfig.elt;
    var trigger = issuer && issuer.getAttribute ? (issuer.getAttribute("hx-trigger") || "") : "";
    if (!target || /every|load|revealed/.test(trigger)) { pendingFocus = null; return; }
    var form = issuer && issuer.closest ? issuer.closest("form") : null;
    var submitter = evt.detail.requestConfig.triggeringEvent &&
      evt.detail.requestConfig.triggeringEvent.submitter;
    var table = target.closest("table");
    pendingFocus = {
      id: target.id, table: table ? table.id : "",
      done: form ? (form.getAttribute("data-done") || "") : "",
      ok: evt.detail.xhr.status < 300,
      action: form ? form.getAttribute("action") : "",
      direction: submitter && form ? (form.querySelector("[name=direction]") || {}).value : ""
    };
    // a swap that removes its target (an empty answer) settles nothing: no afterSettle event.
    // The timer settles only its own swap, never a later one still on its way.
    var mine = pendingFocus;
    window.setTimeout(function () { if (pendingFocus === mine) { settleFocus(); } }, 150);
  });
  document.addEventListener("htmx:afterSettle", function () { settleFocus(); errorTitle(); });
  // A refused form's title starts with "Error: " (GOV.UK), also after an htmx swap; the server
  // does the same for a whole page (error_pages.error_in_title).
  function errorTitle() {
    var failed = !!document.querySelector("#main .error-summary, #main .error-message");
    var title = document.title.replace(/^Error: /, "");
    document.title = failed ? "Error: " + title : title;
  }
  function settleFocus() {
    var p = pendingFocus;
    pendingFocus = null;
    if (!p) { return; }
    var root = (p.id && document.getElementById(p.id)) ||
      (p.table && document.getElementById(p.table)) || document.getElementById("main");
    if (!root) { return; }
    var error = root.querySelector(".error-summary") || root.querySelector(
      ".field-error input, .field-error textarea, .field-error select, [aria-invalid=true]");
    if (error) { focusOn(error); return; }
    if (root.classList.contains("editing")) { return; }  // the row form takes the caret itself
    var region = document.getElementById("htmx-status");
    if (p.ok && p.done && region) { region.textContent = p.done; }
    if (p.action && p.direction) {
      var again = Array.prototype.find.call(root.querySelectorAll("form"), function (f) {
        var d = f.querySelector("[name=direction]");
        return f.getAttribute("action") === p.action && d && d.value === p.direction;
      });
      if (again) { focusOn(again.querySelector("button")); return; }
    }
    if (root.tagName === "TR" || root.tagName === "TABLE") { focusOn(root); return; }
    focusOn(root.querySelector("h1, h2, h3, .flash, .notice") || root);
  }

  // Put the caret in the first field of a row that has just opened for editing.
  // A merge view (409) takes the focus so the editor hears that someone else saved first.
  document.addEventListener("htmx:load", function (evt) {
    var el = evt.detail.elt;
    if (!el || !el.classList || !el.classList.contains("editing")) { return; }
    var conflict = el.querySelector(".conflict");
    var first = el.querySelector("textarea, input:not([type=hidden]), select");
    if (conflict) { conflict.focus(); } else if (first && !el.querySelector(".error-summary")) {
      first.focus();
    }
  });
})();

/* Directory and administration (issue 8): upload progress for the GIAS import. */
(function () {
  "use strict";
  document.addEventListener("htmx:xhr:progress", function (evt) {
    var bar = document.getElementById("import-progress");
    if (bar && evt.detail.lengthComputable && evt.detail.total) {
      bar.value = Math.round(evt.detail.loaded * 100 / evt.detail.total);
    }
  });
})();

/* A table wider than the screen scrolls in its own area (portal.css, below 48em): one a keyboard
   cannot reach (no link or button inside) gets tabindex=0 so the arrow keys scroll it (WCAG
   2.1.1; axe's scrollable-region-focusable). Its caption names it. Checked again after every
   htmx swap and when the window changes size. */
(function () {
  "use strict";
  function reachable(table) {
    var wide = table.scrollWidth > table.clientWidth + 1;
    var focusable = table.querySelector("a[href], button, input, select, textarea, [tabindex]");
    if (wide && !focusable && !table.hasAttribute("tabindex")) {
      table.setAttribute("tabindex", "0");
      table.setAttribute("data-scroll-focus", "");
    } else if (!wide && table.hasAttribute("data-scroll-focus")) {
      table.removeAttribute("tabindex");
      table.removeAttribute("data-scroll-focus");
    }
  }
  function all() { Array.prototype.forEach.call(document.querySelectorAll("main table"), reachable); }
  document.addEventListener("DOMContentLoaded", all, { once: true });
  document.addEventListener("htmx:load", all);
  var timer = null;
  window.addEventListener("resize", function () {
    window.clearTimeout(timer);
    timer = window.setTimeout(all, 100);
  });
})();
