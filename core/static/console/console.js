/*
 * Operator console: one websocket per page, live regions, countdowns, the desk clock.
 * Plain JavaScript, no build step, no third-party code. Licence: the project's
 * (AGPL-3.0-or-later).
 *
 *   Console.on(type, fn)     fn(frame) for frames of `type` ("crisis.*" matches a prefix,
 *                            "*" everything); "open"/"close" for the socket itself.
 *   Console.send(frame)      send a JSON frame (false when the socket is not open).
 *   [data-live-src][data-live-on="crisis. hotline.message"]
 *                            the element re-fetches its HTML from data-live-src when a
 *                            frame whose type starts with one of those words arrives, and
 *                            after every reconnect (the database is the truth: a region
 *                            catches up from it, whatever events were missed).
 *   [data-follow-channel=ID][data-since-seq=N]
 *                            subscribe to a hotline channel from seq N on every connect.
 *   [data-live-src][data-poll=ms]
 *                            also re-fetched every ms while its [data-status] says
 *                            pending or running (an import job's progress bar).
 *   [data-countdown=ISO]     ticks every second; "overdue" once past.
 *   body[data-socket-state]  "connecting" | "open" | "closed" (tests wait on it).
 */
(function () {
  "use strict";
  var handlers = {};
  var socket = null;
  var opened = 0;
  var backoff = 500;
  var body = document.body;

  function emit(type, frame) {
    Object.keys(handlers).forEach(function (key) {
      var hit = key === type || key === "*" ||
        (key.slice(-1) === "*" && type.indexOf(key.slice(0, -1)) === 0);
      if (hit) handlers[key].forEach(function (fn) { fn(frame); });
    });
  }

  function setState(state) {
    body.setAttribute("data-socket-state", state);
    var banner = document.getElementById("offline-banner");
    if (banner) banner.hidden = state !== "closed";
  }

  function connect() {
    var path = body.getAttribute("data-socket");
    if (!path) return;
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    setState(opened ? "closed" : "connecting");
    socket = new WebSocket(scheme + location.host + path);
    socket.onopen = function () {
      backoff = 500;
      var again = opened > 0;
      opened += 1;
      setState("open");
      emit("open", { type: "open", reconnect: again });
      if (again) refreshAll();
    };
    socket.onmessage = function (event) {
      var frame;
      try { frame = JSON.parse(event.data); } catch (e) { return; }
      if (frame && typeof frame.type === "string") emit(frame.type, frame);
    };
    socket.onclose = function () {
      socket = null;
      setState("closed");
      emit("close", { type: "close" });
      setTimeout(connect, backoff);
      backoff = Math.min(backoff * 2, 5000);
    };
  }

  // --- live regions ---------------------------------------------------------------------
  var pending = new Map();
  function refresh(el) {
    if (pending.has(el)) return;
    pending.set(el, setTimeout(function () {
      pending.delete(el);
      fetch(el.getAttribute("data-live-src"), { credentials: "same-origin",
        headers: { "X-Requested-With": "console" } })
        .then(function (r) { return r.ok ? r.text() : null; })
        .then(function (html) {
          if (html === null) return;
          el.innerHTML = html;
          schedulePoll(el);
          el.dispatchEvent(new CustomEvent("live:updated", { bubbles: true }));
          bind(el);
        })
        .catch(function () { /* offline: the next reconnect refreshes again */ });
    }, 120));
  }
  // A region showing work in progress (data-poll=ms, e.g. an import running on a worker)
  // re-fetches itself until its content says it is done ([data-status] not pending/running).
  function schedulePoll(el) {
    var ms = Number(el.getAttribute("data-poll") || 0);
    if (!ms) return;
    var status = el.querySelector("[data-status]");
    if (status && !/^(pending|running)$/.test(status.getAttribute("data-status"))) return;
    setTimeout(function () { refresh(el); }, ms);
  }
  function refreshAll() {
    document.querySelectorAll("[data-live-src]").forEach(refresh);
  }
  function watchRegions() {
    document.querySelectorAll("[data-live-src][data-live-on]").forEach(function (el) {
      el.getAttribute("data-live-on").split(/\s+/).forEach(function (prefix) {
        if (!prefix) return;
        on(prefix.slice(-1) === "." ? prefix + "*" : prefix, function () { refresh(el); });
      });
    });
  }

  // --- countdowns and the clock ---------------------------------------------------------
  function fmt(seconds) {
    if (seconds <= 0) return "overdue";
    var h = Math.floor(seconds / 3600), m = Math.floor((seconds % 3600) / 60), s = seconds % 60;
    var mm = (h && m < 10 ? "0" : "") + m, ss = (s < 10 ? "0" : "") + s;
    return (h ? h + ":" : "") + mm + ":" + ss;
  }
  function tick() {
    var now = Date.now();
    document.querySelectorAll("[data-countdown]").forEach(function (el) {
      var left = Math.round((Date.parse(el.getAttribute("data-countdown")) - now) / 1000);
      el.textContent = fmt(left);
      el.classList.toggle("overdue", left <= 0);
    });
    document.querySelectorAll("[data-clock]").forEach(function (el) {
      var d = new Date(now), zone = el.getAttribute("data-zone") || "UTC";
      var utc = d.toISOString().slice(11, 16) + " UTC";
      var local = "";
      try {
        local = zone === "UTC" ? "" : " · " + d.toLocaleTimeString("en-GB",
          { timeZone: zone, hour: "2-digit", minute: "2-digit" }) + " " + zone;
      } catch (e) { local = ""; }
      el.textContent = utc + local;
    });
  }

  // --- small behaviours ------------------------------------------------------------------
  function bind(root) {
    root.querySelectorAll("select[data-autosubmit]").forEach(function (el) {
      if (el.dataset.bound) return;
      el.dataset.bound = "1";
      el.addEventListener("change", function () { el.form.submit(); });
    });
    // A form posted once is not posted twice by a double click.
    root.querySelectorAll("form[data-once]").forEach(function (form) {
      if (form.dataset.bound) return;
      form.dataset.bound = "1";
      form.addEventListener("submit", function (e) {
        if (form.dataset.sent) { e.preventDefault(); return; }
        form.dataset.sent = "1";
        form.querySelectorAll("button[type=submit]").forEach(function (b) { b.disabled = true; });
      });
    });
  }

  function on(type, fn) { (handlers[type] = handlers[type] || []).push(fn); }
  function send(frame) {
    if (!socket || socket.readyState !== WebSocket.OPEN) return false;
    socket.send(JSON.stringify(frame));
    return true;
  }

  // Pages that list lines follow them (subscribe from their last seq) so that their live
  // regions hear of new messages and receipts.
  on("open", function () {
    document.querySelectorAll("[data-follow-channel]").forEach(function (el) {
      send({ type: "subscribe", channel: Number(el.getAttribute("data-follow-channel")),
        since_seq: Number(el.getAttribute("data-since-seq") || 0) });
    });
  });

  window.Console = { on: on, send: send, refresh: refresh, refreshAll: refreshAll,
    isOpen: function () { return !!socket && socket.readyState === WebSocket.OPEN; } };

  document.addEventListener("DOMContentLoaded", function () {
    bind(document);
    watchRegions();
    document.querySelectorAll("[data-live-src][data-poll]").forEach(schedulePoll);
    tick();
    setInterval(tick, 1000);
    connect();
  });
})();
