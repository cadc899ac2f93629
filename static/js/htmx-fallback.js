/* If the CDN copy of htmx did not load (blocked school network, offline), load our own copy.
   A parser-blocking same-origin script, so htmx is ready before portal.js runs. */
if (!window.htmx) {
  document.write('<script src="/static/vendor/htmx.min.js"><\/script>');
}
