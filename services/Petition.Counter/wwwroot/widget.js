/*
 * Petition live counter widget.
 *   <div data-petition-counter="PETITION-ID"></div>
 *   <script src="https://COUNTER-HOST/widget.js" async></script>
 * Renders the total, progress towards the target and the number of countries, kept live with
 * Server-Sent Events, falling back to polling the JSON count every 5 s where EventSource is missing or
 * keeps failing. Everything rendered goes through textContent: nothing from the server is parsed as HTML.
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
    var lastVersion = -1;

    function render(count) {
      if (typeof count.version !== "number" || count.version <= lastVersion) return;
      lastVersion = count.version;
      total.textContent = format.format(count.total);
      var percent = count.target > 0 ? Math.min(100, (100 * count.total) / count.target) : 0;
      fill.style.width = percent.toFixed(1) + "%";
      detail.textContent = "from " + format.format(count.countries) + " countries · target " + format.format(count.target);
      host.setAttribute("data-total", String(count.total));
    }

    var url = base + "/api/petitions/" + encodeURIComponent(id) + "/count";
    var pollTimer = null;
    function poll() {
      fetch(url, { cache: "no-cache" }).then(function (r) { return r.ok ? r.json() : null; })
        .then(function (c) { if (c) render(c); }).catch(function () {})
        .then(function () { pollTimer = setTimeout(poll, 5000); });
    }

    if (!window.EventSource) { poll(); return; }
    var failures = 0;
    var source = new EventSource(url + "/stream");
    source.addEventListener("count", function (e) { failures = 0; render(JSON.parse(e.data)); });
    source.onerror = function () {
      // EventSource reconnects by itself; after repeated failures, poll instead.
      if (++failures >= 5 && pollTimer === null) { source.close(); poll(); }
    };
  }

  function start() {
    var hosts = document.querySelectorAll("[data-petition-counter]");
    for (var i = 0; i < hosts.length; i++) mount(hosts[i]);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start); else start();
})();
