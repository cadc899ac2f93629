/* Load htmx without ever holding the page up (issue 15).

   The page never waits for htmx: every form works without JavaScript, and htmx takes over the
   moment it arrives. The CDN copy (with its SRI hash) is added as an async script, so the page
   is drawn and usable while it loads, and a network that silently drops the CDN cannot stall
   it (only the browser's "loading" indicator waits, on the first page). If the CDN fails, or
   has not answered within FALLBACK_MS, the portal's own copy
   (static/vendor/htmx.min.js, the same file) is loaded instead, the late CDN copy is stopped
   from running (a script moved to another document never runs), and the rest of this visit
   goes straight to the portal's copy. htmx reads its settings from <meta name="htmx-config">
   and starts whenever it arrives (see kick()). No inline script: the addresses come from this
   element's data- attributes. */
(function () {
  "use strict";
  var FALLBACK_MS = 2500;
  var KEY = "portal-htmx-cdn-failed";
  var me = document.currentScript;
  var cdn = me.getAttribute("data-cdn");
  var integrity = me.getAttribute("data-integrity");
  var local = me.getAttribute("data-local");
  var settled = false;

  function remembered() {
    try { return window.sessionStorage.getItem(KEY) === "1"; } catch (e) { return false; }
  }
  function remember() {
    try { window.sessionStorage.setItem(KEY, "1"); } catch (e) { /* private mode: fine */ }
  }
  var domReady = document.readyState !== "loading";
  document.addEventListener("DOMContentLoaded", function () { domReady = true; });

  // htmx 2.0 starts on DOMContentLoaded, or at once if the document has finished loading. Run
  // after DOMContentLoaded while something (a CDN that never answers) still holds the load
  // event, it would wait for an event that has passed: tell it the page is ready. (portal.js
  // listens for DOMContentLoaded once only, so the repeat reaches htmx alone.)
  function started() { return Boolean(document.body && document.body["htmx-internal-data"]); }
  function kick() {
    if (window.htmx && domReady && !started()) {
      document.dispatchEvent(new Event("DOMContentLoaded"));
    }
  }
  function add(src, sri) {
    var s = document.createElement("script");
    s.src = src;
    if (sri) { s.integrity = sri; s.crossOrigin = "anonymous"; }
    s.addEventListener("load", kick);
    document.head.appendChild(s);
    return s;
  }
  function useLocal(cdnScript) {
    if (settled) { return; }
    settled = true;
    if (cdnScript) {
      remember();
      // never run the CDN copy if it answers after all: two htmx would handle every request
      try { document.implementation.createHTMLDocument("").adoptNode(cdnScript); }
      catch (e) { cdnScript.remove(); }
    }
    if (!window.htmx) { add(local).setAttribute("data-htmx-source", "local"); }
  }
  function useCdn() {
    var s = add(cdn, integrity);
    s.setAttribute("data-htmx-source", "cdn");
    var timer = window.setTimeout(function () { useLocal(s); }, FALLBACK_MS);
    s.addEventListener("load", function () {
      window.clearTimeout(timer);
      if (window.htmx) { settled = true; } else { useLocal(s); }
    });
    s.addEventListener("error", function () { window.clearTimeout(timer); useLocal(s); });
  }

  if (!cdn || remembered()) {
    useLocal(null);
  } else {
    useCdn();
  }
}());
