/*
 * Petition live counter widget.
 *   <div data-petition-counter="PETITION-ID"></div>
 *   <script src="https://COUNTER-HOST/widget.js" async></script>
 * Renders the total, progress towards the target and the number of countries, kept live with a
 * Server-Sent Events stream (read through fetch, so a refusal's status and Retry-After are seen). Whenever
 * the stream is refused, fails or ends, it polls the JSON count every 5 s and opens the stream again later:
 * after the refusal's Retry-After, or after a backoff that grows to a minute. Where fetch cannot stream, it
 * only polls. A stream silent for 45 s (three of the counter's heartbeats) is dropped and opened again.
 * Everything rendered goes through textContent: nothing from the server is parsed as HTML.
 */
(function () {
  "use strict";
  var script = document.currentScript;
  var base = script ? new URL(script.src, location.href).origin : location.origin;
  var format = new Intl.NumberFormat(undefined);

  function el(tag, className, parent) {
    var node = document.createElement(tag);
    node.className = className;
    if (parent) parent.appendChild(node);
    return node;
  }

  function mount(host) {
    var id = host.getAttribute("data-petition-counter");
    if (!/^[0-9a-fA-F-]{36}$/.test(id || "")) return;
    host.classList.add("petition-counter");
    var total = el("span", "petition-counter-total", host);
    el("span", "petition-counter-label", host).textContent = " signatures";
    var bar = el("div", "petition-counter-bar", host);
    var fill = el("div", "petition-counter-fill", bar);
    var detail = el("div", "petition-counter-detail", host);
    bar.style.cssText = "background:#e5e7eb;border-radius:4px;height:8px;margin:6px 0;overflow:hidden";
    fill.style.cssText = "background:#16a34a;height:100%;width:0;transition:width .4s";
    total.textContent = "…";

    var shown = null;
    function render(count) {
      if (typeof count.version !== "number" || typeof count.total !== "number") return;
      // A higher version, or a repair of the one shown (same version, other figures).
      if (shown && (count.version < shown.version || (count.version === shown.version && count.total === shown.total))) return;
      shown = { version: count.version, total: count.total };
      total.textContent = format.format(count.total);
      var percent = count.target > 0 ? Math.min(100, (100 * count.total) / count.target) : 0;
      fill.style.width = percent.toFixed(1) + "%";
      detail.textContent = "from " + format.format(count.countries) + " countries · target " + format.format(count.target);
      host.setAttribute("data-total", String(count.total));
    }

    var url = base + "/api/petitions/" + encodeURIComponent(id) + "/count";
    // One polling loop at most: each start is a new generation, and a loop of an older one ends.
    var pollGeneration = 0;
    var polling = false;
    function poll(generation) {
      if (generation !== pollGeneration) return;
      fetch(url, { cache: "no-cache" }).then(function (r) { return r.ok ? r.json() : null; })
        .then(function (c) { if (c) render(c); }).catch(function () {})
        .then(function () { if (generation === pollGeneration) setTimeout(function () { poll(generation); }, 5000); });
    }
    function startPolling() {
      if (polling) return;
      polling = true;
      poll(++pollGeneration);
    }
    function stopPolling() {
      if (!polling) return;
      polling = false;
      pollGeneration++;
    }

    var backoff = 2;
    function retryAfter(response) {
      var seconds = parseInt(response && response.headers.get("Retry-After"), 10);
      return seconds > 0 ? Math.min(seconds, 600) : null;
    }
    function streamLater(seconds) {
      startPolling();
      var wait = seconds || backoff;
      if (!seconds) backoff = Math.min(backoff * 2, 60);
      setTimeout(stream, wait * 1000 * (0.8 + 0.4 * Math.random())); // jittered: not all pages at once
    }

    // Parses the stream's "event: count" messages as they arrive. Lines may end in CRLF, LF or CR (as the
    // SSE format allows; a proxy may rewrite them); a CR that ends a chunk ends its line at once, and an LF
    // that opens the next chunk is then the rest of that CRLF.
    function read(response, alive) {
      var reader = response.body.getReader();
      var decoder = new TextDecoder();
      var buffer = "";
      var endedInCR = false;
      function next() {
        return reader.read().then(function (chunk) {
          if (chunk.done) return;
          alive();
          var text = decoder.decode(chunk.value, { stream: true });
          if (endedInCR && text.charAt(0) === "\n") text = text.slice(1);
          if (text) endedInCR = text.charAt(text.length - 1) === "\r";
          buffer = (buffer + text).replace(/\r\n?/g, "\n");
          var end;
          while ((end = buffer.indexOf("\n\n")) >= 0) {
            var message = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            var data = message.split("\n").filter(function (l) { return l.indexOf("data:") === 0; })
              .map(function (l) { return l.slice(5).trim(); }).join("\n");
            if (/(^|\n)event: count(\n|$)/.test(message) && data) {
              stopPolling();
              backoff = 2;
              render(JSON.parse(data));
            }
          }
          return next();
        });
      }
      return next();
    }

    // The counter sends a heartbeat every 15 s. A stream silent for three of them has been stalled somewhere
    // (a proxy, a sleeping laptop's network): it is dropped and opened again, so the total never freezes.
    var silence = 45000;
    function stream() {
      var abort = window.AbortController ? new AbortController() : null;
      var watchdog = null;
      function alive() {
        clearTimeout(watchdog);
        if (abort) watchdog = setTimeout(function () { abort.abort(); }, silence);
      }
      alive();
      // Whatever ends this stream (refused, ended, a frame that does not parse) closes it before another opens:
      // an abandoned one would still hold one of the client's few places at the counter.
      function close() {
        clearTimeout(watchdog);
        if (abort) abort.abort();
      }
      fetch(url + "/stream", { cache: "no-store", headers: { Accept: "text/event-stream" }, signal: abort ? abort.signal : undefined })
        .then(function (response) {
          // No such petition: nothing to show, and nothing to ask again.
          if (response.status === 404) { close(); stopPolling(); total.textContent = "–"; return; }
          if (!response.ok || !response.body) { close(); streamLater(retryAfter(response)); return; }
          return read(response, alive).then(function () { close(); streamLater(null); });
        })
        .catch(function () { close(); streamLater(null); });
    }

    if (!window.fetch || !window.ReadableStream || !window.TextDecoder) { startPolling(); return; }
    stream();
  }

  function start() {
    var hosts = document.querySelectorAll("[data-petition-counter]");
    for (var i = 0; i < hosts.length; i++) mount(hosts[i]);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start); else start();
})();
