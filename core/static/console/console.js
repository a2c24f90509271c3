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
 *   Heartbeat                a `ping` every 4 s; a socket that hears nothing (no frame,
 *                            not even the `pong`) for 8 s, or does not open within 6 s,
 *                            counts as dead: it is dropped, the offline banner shows and
 *                            a new socket is opened (a silently dead link, where the
 *                            browser's own close would wait minutes, is seen in < 10 s).
 *   "resync" frame           the server's Redis came back under an open socket: every
 *                            live region and the badge re-read (as after a reconnect).
 *   [data-unread-badge]      the unread notification count (body[data-unread-src]), fetched
 *                            on load, on every (re)connect and on notification/escalation
 *                            frames.
 *   #attention               what the desk must still act on (unacknowledged flash
 *                            messages, escalation levels), on every page, re-fetched on
 *                            message/receipt/escalation frames; while it lists anything the
 *                            tab's title starts with "(n) ⚠", and an alert raised by a frame
 *                            shows in the title at once.
 *   Alerts                   a desktop notification (Notification API) and a short tone
 *                            (WebAudio) for flash messages from other desks, flash
 *                            escalations, escalation levels and new flash/escalation
 *                            notifications, while a console page is open. Muted per person
 *                            and browser with [data-alerts-toggle] (localStorage).
 */
(function () {
  "use strict";
  var handlers = {};
  var socket = null;
  var opened = 0;
  var backoff = 500;
  var PING_MS = 4000, SILENT_MS = 8000, CONNECT_MS = 6000;
  var lastHeard = 0, lastPing = 0, pings = 0, startedAt = 0;
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
    var ws = new WebSocket(scheme + location.host + path);
    socket = ws;
    startedAt = Date.now();
    ws.onopen = function () {
      if (socket !== ws) return;
      backoff = 500;
      lastHeard = lastPing = Date.now();
      var again = opened > 0;
      opened += 1;
      setState("open");
      emit("open", { type: "open", reconnect: again });
      if (again) refreshAll();
    };
    ws.onmessage = function (event) {
      if (socket !== ws) return;  // a socket given up on: whatever it still says is stale
      lastHeard = Date.now();
      var frame;
      try { frame = JSON.parse(event.data); } catch (e) { return; }
      if (frame && typeof frame.type === "string") emit(frame.type, frame);
    };
    ws.onclose = function () {
      if (socket === ws) lost();
    };
  }
  // The socket is gone (closed, or silent for too long): say so and open a new one.
  function lost() {
    var old = socket;
    socket = null;
    if (old) {
      old.onopen = old.onmessage = old.onclose = null;
      try { old.close(); } catch (e) { /* already closing */ }
    }
    setState("closed");
    emit("close", { type: "close" });
    setTimeout(connect, backoff);
    backoff = Math.min(backoff * 2, 5000);
  }
  function heartbeat() {
    if (!socket) return;
    var now = Date.now();
    if (socket.readyState === WebSocket.CONNECTING) {
      if (now - startedAt > CONNECT_MS) lost();
      return;
    }
    if (socket.readyState !== WebSocket.OPEN) return;
    if (now - lastHeard > SILENT_MS) { lost(); return; }
    if (now - lastPing >= PING_MS) {
      lastPing = now;
      pings += 1;
      socket.send(JSON.stringify({ type: "ping", ref: "hb-" + pings }));
    }
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

  // --- words: what this file writes on the page, in the reader's language -------------------
  // base.html carries them as JSON (<script type="application/json" id="console-strings">,
  // not executed, so the CSP allows it); %(name)s placeholders are filled here.
  var words = {};
  try { words = JSON.parse(document.getElementById("console-strings").textContent); } catch (e) { words = {}; }
  function say(key, params) {
    return (words[key] || key).replace(/%\((\w+)\)s/g, function (m, name) {
      return params && name in params ? String(params[name]) : m;
    });
  }

  // --- countdowns and the clock ---------------------------------------------------------
  function fmt(seconds) {
    if (seconds <= 0) return say("overdue");
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
      // The desk's zone first, UTC beside it (as the server's dual_time).
      var d = new Date(now), zone = el.getAttribute("data-zone") || "UTC";
      var utc = d.toISOString().slice(11, 16) + " UTC";
      var local = "";
      try {
        local = zone === "UTC" ? "" : d.toLocaleTimeString("en-GB",
          { timeZone: zone, hour: "2-digit", minute: "2-digit", hourCycle: "h23" }) + " " + zone + " · ";
      } catch (e) { local = ""; }
      el.textContent = local + utc;
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

  // --- boxes that scroll sideways (a wide table on a phone) can be scrolled by keyboard ---
  var FOCUSABLE = "a[href], button, input, select, textarea, [tabindex]";
  function scrollsItself(el) {
    var style = getComputedStyle(el);
    var x = /auto|scroll/.test(style.overflowX) && el.scrollWidth > el.clientWidth + 1;
    var y = /auto|scroll/.test(style.overflowY) && el.scrollHeight > el.clientHeight + 1;
    return x || y;
  }
  function markScrollable() {
    document.querySelectorAll("main div, main section, main ol, main ul").forEach(function (el) {
      var scrolls = scrollsItself(el);
      if (scrolls && !el.hasAttribute("tabindex") && !el.querySelector(FOCUSABLE)) {
        el.setAttribute("tabindex", "0");
        el.setAttribute("data-scroll-focus", "");
      } else if (!scrolls && el.hasAttribute("data-scroll-focus")) {
        el.removeAttribute("tabindex");
        el.removeAttribute("data-scroll-focus");
      }
    });
  }
  var scrollTimer = null;
  function markScrollableSoon() {
    clearTimeout(scrollTimer);
    scrollTimer = setTimeout(markScrollable, 100);
  }
  window.addEventListener("resize", markScrollableSoon);
  document.addEventListener("live:updated", markScrollableSoon);

  // --- the unread badge -------------------------------------------------------------------
  var badgeTimer = null;
  function refreshBadge() {
    var src = body.getAttribute("data-unread-src");
    var badge = document.querySelector("[data-unread-badge]");
    if (!src || !badge || badgeTimer) return;
    badgeTimer = setTimeout(function () {
      badgeTimer = null;
      fetch(src, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (data) {
          if (!data) return;
          badge.textContent = String(data.unread);
          badge.hidden = !data.unread;
          badge.setAttribute("data-count", String(data.unread));
        })
        .catch(function () { /* offline: refreshed again on reconnect */ });
    }, 150);
  }

  // --- alerts: desktop notification and a tone, muted per person ------------------------------
  function alertsKey() { return "console.alerts." + (body.getAttribute("data-user") || ""); }
  function alertsOn() {
    try { return localStorage.getItem(alertsKey()) !== "off"; } catch (e) { return true; }
  }
  function showAlertsState() {
    var button = document.querySelector("[data-alerts-toggle]");
    if (!button) return;
    var onNow = alertsOn();
    button.textContent = onNow ? say("alertsOn") : say("alertsMuted");
    button.setAttribute("aria-pressed", onNow ? "true" : "false");
  }
  var audio = null;
  function tone() {
    try {
      var Ctx = window.AudioContext || window.webkitAudioContext;
      if (!Ctx) return;
      audio = audio || new Ctx();
      if (audio.state === "suspended") audio.resume();
      [0, 0.25].forEach(function (at) {
        var osc = audio.createOscillator(), gain = audio.createGain();
        osc.type = "square";
        osc.frequency.value = 880;
        gain.gain.value = 0.08;
        osc.connect(gain);
        gain.connect(audio.destination);
        osc.start(audio.currentTime + at);
        osc.stop(audio.currentTime + at + 0.15);
      });
      body.setAttribute("data-last-tone", String(Date.now()));
    } catch (e) { /* no audio device: the desktop notification still shows */ }
  }
  // --- the tab's title: what waits for the desk -------------------------------------------
  var baseTitle = document.title;
  var raisedTitle = "";
  function attentionCount() {
    var el = document.querySelector("#attention [data-attention-count]");
    return el ? Number(el.getAttribute("data-attention-count")) || 0 : 0;
  }
  function showTitle() {
    var n = attentionCount();
    if (n) document.title = "(" + n + ") \u26a0 " + baseTitle;
    else if (raisedTitle) document.title = "\u26a0 " + raisedTitle + " \u00b7 " + baseTitle;
    else document.title = baseTitle;
  }
  document.addEventListener("live:updated", function (e) {
    if (e.target && e.target.id === "attention") { raisedTitle = ""; showTitle(); }
  });

  var alerted = {};
  function raise(tag, title, text, link) {
    if (alerted[tag]) return;
    alerted[tag] = true;
    // The title says it even when alerts are muted (muting silences, it does not hide).
    raisedTitle = title;
    showTitle();
    var attention = document.getElementById("attention");
    if (attention) refresh(attention);
    if (!alertsOn()) return;
    tone();
    if (!("Notification" in window) || Notification.permission !== "granted") return;
    try {
      var n = new Notification(title, { body: text || "", tag: tag, requireInteraction: true });
      n.onclick = function () { window.focus(); if (link) location.href = link; };
    } catch (e) { /* some browsers only notify from a service worker */ }
  }
  function crisisRef(frame) {
    return frame.crisis ? frame.crisis.reference + " " + frame.crisis.title : say("aCrisis");
  }
  function alertFor(frame) {
    var t = frame.type;
    if (t === "escalation.level") {
      raise("crisis:" + (frame.crisis && frame.crisis.id) + ":level:" + frame.level + ":" + frame.round,
        say("escalationLevel", { crisis: crisisRef(frame), level: frame.level }),
        say("pleaseAcknowledge", { name: frame.name || "" }),
        frame.crisis ? "/crises/" + frame.crisis.id + "/" : "");
    } else if (t === "escalation.unanswered") {
      raise("crisis:" + (frame.crisis && frame.crisis.id) + ":unanswered",
        say("nobodyAcknowledged", { crisis: crisisRef(frame) }), say("topUnanswered"),
        frame.crisis ? "/crises/" + frame.crisis.id + "/" : "");
    } else if (t === "notification.new") {
      var n = frame.notification || {};
      if (n.urgency === "flash" || n.urgency === "escalation") {
        raise("notification:" + n.id, n.title || say("newNotification"), "", n.link_path);
      }
    } else if (t === "message" && frame.priority === "flash") {
      var mine = String(frame.sender_desk) === String(body.getAttribute("data-desk") || "");
      if (!mine && frame.sender_desk) {
        raise("message:" + frame.id, say("flashOnLine"),
          (frame.body || "").slice(0, 180), "/lines/" + frame.channel + "/");
      }
    } else if (t === "escalation" && frame.message) {
      raise("flash:" + frame.message + ":" + frame.step, say("flashNotAcked"),
        say("desksToAck", { count: (frame.desks || []).length, step: frame.step }),
        "/lines/" + frame.channel + "/");
    }
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

  // After a reconnect the count catches up with what the socket missed (a moment later:
  // a connection that just came back may still be settling).
  on("open", function (frame) { if (frame.reconnect) setTimeout(refreshBadge, 1000); });
  on("notification.*", refreshBadge);
  on("escalation.*", refreshBadge);
  on("hotline.line_degraded", refreshBadge);
  // The server's live transport was interrupted and is back (the socket stayed open):
  // events of the meantime were lost in transport, so re-read from the database.
  on("resync", function () { refreshAll(); refreshBadge(); });
  on("*", alertFor);

  window.Console = { on: on, send: send, refresh: refresh, refreshAll: refreshAll,
    isOpen: function () { return !!socket && socket.readyState === WebSocket.OPEN; } };

  document.addEventListener("DOMContentLoaded", function () {
    bind(document);
    watchRegions();
    showTitle();
    markScrollable();
    refreshBadge();
    showAlertsState();
    var toggle = document.querySelector("[data-alerts-toggle]");
    if (toggle) toggle.addEventListener("click", function () {
      var next = alertsOn() ? "off" : "on";
      try { localStorage.setItem(alertsKey(), next); } catch (e) { /* private mode */ }
      if (next === "on" && "Notification" in window && Notification.permission === "default") {
        Notification.requestPermission();
      }
      if (next === "on") tone();  // a click lets the page play sound from now on
      showAlertsState();
    });
    // Browsers let a page ask for notifications and play sound after a gesture.
    document.addEventListener("click", function once() {
      document.removeEventListener("click", once);
      if (alertsOn() && "Notification" in window && Notification.permission === "default") {
        Notification.requestPermission();
      }
      try {
        var Ctx = window.AudioContext || window.webkitAudioContext;
        if (Ctx && !audio) audio = new Ctx();
        if (audio && audio.state === "suspended") audio.resume();
      } catch (e) { /* no audio */ }
    });
    document.querySelectorAll("[data-live-src][data-poll]").forEach(schedulePoll);
    tick();
    setInterval(tick, 1000);
    setInterval(heartbeat, 1000);
    connect();
  });
})();
